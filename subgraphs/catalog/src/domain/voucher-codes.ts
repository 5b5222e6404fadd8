import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { InputError } from '@loyalty-graph/shared';
import { LIMITS } from './limits';

/**
 * Voucher codes are bearer value: whoever reads one can spend it. So a code is stored encrypted
 * (AES-256-GCM, a random IV per code), found again by a keyed hash (HMAC-SHA256, so the table alone
 * cannot be brute-forced for short codes), and shown whole only to the member it was issued to.
 * Nothing here reads the database or the environment.
 */

/** Why a line of an import was not taken. */
export type ImportRejectReason = 'DUPLICATE_IN_FILE' | 'ALREADY_IN_POOL' | 'INVALID';

export interface ImportRejectedCode {
  /** The code's position in the import (0-based). */
  index: number;
  reason: ImportRejectReason;
  /** The masked code; null for an INVALID one (it may not even have a tail worth showing). */
  masked: string | null;
}

/** A code accepted by the checks, before the pool says whether it already has it. */
export interface CheckedCode {
  index: number;
  code: string;
}

/** The first byte of every stored code: a later key or algorithm gets another, and old rows stay readable. */
const FORMAT_V1 = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Printable ASCII, spaces inside allowed (checked after trimming): what suppliers' files hold. */
const PRINTABLE = /^[\x20-\x7e]+$/;

/**
 * Encrypts, decrypts and hashes codes with keys derived (HKDF) from one 32-byte secret,
 * CATALOG_CODE_KEY: one secret to keep, and neither use of it can weaken the other.
 */
export class VoucherCipher {
  private readonly encryptionKey: Buffer;
  private readonly hashKey: Buffer;

  constructor(secret: Buffer) {
    if (secret.length !== KEY_BYTES) throw new Error(`a voucher code key is ${KEY_BYTES} bytes, not ${secret.length}`);
    this.encryptionKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'loyalty-graph catalog voucher-code encryption', KEY_BYTES));
    this.hashKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'loyalty-graph catalog voucher-code hash', KEY_BYTES));
  }

  /** A fresh random key (tests, and a development process started without one). */
  static random(): VoucherCipher {
    return new VoucherCipher(randomBytes(KEY_BYTES));
  }

  /**
   * format | IV | tag | ciphertext. The reward's id is the additional data: a ciphertext copied
   * into another reward's pool does not decrypt there.
   */
  encrypt(code: string, rewardId: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    cipher.setAAD(Buffer.from(rewardId));
    const body = Buffer.concat([cipher.update(code, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT_V1]), iv, cipher.getAuthTag(), body]);
  }

  /** Throws when the key is not the one it was encrypted with, or the bytes were changed. */
  decrypt(stored: Buffer, rewardId: string): string {
    if (stored[0] !== FORMAT_V1) throw new Error(`unknown voucher code format ${stored[0]}`);
    const iv = stored.subarray(1, 1 + IV_BYTES);
    const tag = stored.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, iv);
    decipher.setAAD(Buffer.from(rewardId));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(stored.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  /** The dedupe key: HMAC-SHA256 of the normalised code (see normaliseCode). */
  hash(code: string): Buffer {
    return createHmac('sha256', this.hashKey).update(normaliseCode(code)).digest();
  }
}

/** Reads CATALOG_CODE_KEY's value: base64 of exactly 32 bytes. */
export function parseCodeKey(value: string): Buffer {
  const key = Buffer.from(value.trim(), 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== value.trim()) {
    throw new Error(`CATALOG_CODE_KEY must be base64 of ${KEY_BYTES} random bytes (generate one with \`openssl rand -base64 32\`)`);
  }
  return key;
}

/**
 * What two codes must differ in to be two codes: case is ignored. A code is issued exactly as it
 * was imported (a supplier's codes may be case-sensitive at redemption), but `ab12cd34` and
 * `AB12CD34` in one pool may be the same voucher to a case-insensitive supplier, and issuing it
 * twice would give one bearer value to two members. Refusing the rare case-only pair (reported,
 * never silently dropped) is the safe side.
 */
export function normaliseCode(code: string): string {
  return code.toUpperCase();
}

/** How many trailing characters are kept in clear: 4, but never more than half the code. */
export function codeTail(code: string): string {
  return code.slice(-Math.min(4, Math.floor(code.length / 2)));
}

/** What staff see of a code: a fixed run of dots (the length stays hidden) and its tail. */
export function maskCode(tail: string): string {
  return `••••••${tail}`;
}

/**
 * Checks an import: 1 to LIMITS.voucherCodesPerImport codes (else BAD_USER_INPUT on `codes`),
 * each trimmed and 4 to 64 printable ASCII characters (else INVALID), each once in the file
 * by its normalised form (a later repeat is DUPLICATE_IN_FILE; the first one is kept).
 */
export function checkImportCodes(codes: readonly string[]): { accepted: CheckedCode[]; rejected: ImportRejectedCode[] } {
  if (codes.length < 1 || codes.length > LIMITS.voucherCodesPerImport) {
    throw new InputError(`codes must list 1 to ${LIMITS.voucherCodesPerImport.toLocaleString('en-US')} codes`, 'codes');
  }
  const accepted: CheckedCode[] = [];
  const rejected: ImportRejectedCode[] = [];
  const seen = new Set<string>();
  codes.forEach((raw, index) => {
    const code = raw.trim();
    if (code.length < LIMITS.voucherCodeMinLength || code.length > LIMITS.voucherCodeMaxLength || !PRINTABLE.test(code)) {
      rejected.push({ index, reason: 'INVALID', masked: null });
      return;
    }
    const normalised = normaliseCode(code);
    if (seen.has(normalised)) {
      rejected.push({ index, reason: 'DUPLICATE_IN_FILE', masked: maskCode(codeTail(code)) });
      return;
    }
    seen.add(normalised);
    accepted.push({ index, code });
  });
  return { accepted, rejected };
}
