import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LIMITS } from './limits';
import { checkImportCodes, codeTail, maskCode, normaliseCode, parseCodeKey, VoucherCipher } from './voucher-codes';

const REWARD = '00000000-0000-4000-8000-0000000000a1';

describe('VoucherCipher', () => {
  it('decrypts what it encrypted, with a fresh IV each time, and the plain code nowhere in the bytes', () => {
    const cipher = VoucherCipher.random();
    const code = 'SUMMER-2026-ÆØÅ-x9';
    const a = cipher.encrypt(code, REWARD);
    const b = cipher.encrypt(code, REWARD);
    expect(cipher.decrypt(a, REWARD)).toBe(code);
    expect(cipher.decrypt(b, REWARD)).toBe(code);
    expect(a.equals(b)).toBe(false);
    expect(a.includes(Buffer.from(code))).toBe(false);
    expect(a.includes(Buffer.from('SUMMER'))).toBe(false);
  });

  it('refuses another key, another reward’s ciphertext and a changed byte', () => {
    const cipher = VoucherCipher.random();
    const stored = cipher.encrypt('ABCD-1234', REWARD);
    expect(() => VoucherCipher.random().decrypt(stored, REWARD)).toThrow();
    expect(() => cipher.decrypt(stored, '00000000-0000-4000-8000-0000000000a2')).toThrow();
    const tampered = Buffer.from(stored);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 1, tampered.length - 1);
    expect(() => cipher.decrypt(tampered, REWARD)).toThrow();
  });

  it('hashes with its key: the same code (case ignored) the same, another key or code differently', () => {
    const secret = randomBytes(32);
    const one = new VoucherCipher(secret);
    expect(one.hash('abcd-1234').equals(new VoucherCipher(secret).hash('ABCD-1234'))).toBe(true);
    expect(one.hash('ABCD-1234').equals(one.hash('ABCD-1235'))).toBe(false);
    expect(one.hash('ABCD-1234').equals(VoucherCipher.random().hash('ABCD-1234'))).toBe(false);
    expect(one.hash('ABCD-1234')).toHaveLength(32);
  });
});

describe('parseCodeKey', () => {
  it('takes base64 of 32 bytes and refuses anything else, saying how to make one', () => {
    const key = randomBytes(32);
    expect(parseCodeKey(key.toString('base64')).equals(key)).toBe(true);
    for (const bad of [randomBytes(16).toString('base64'), randomBytes(32).toString('hex'), 'not base64 at all!']) {
      expect(() => parseCodeKey(bad)).toThrow(/openssl rand -base64 32/);
    }
  });
});

describe('masking', () => {
  it('shows at most 4 trailing characters, never more than half the code, behind a fixed run of dots', () => {
    expect(maskCode(codeTail('SUMMER-2026-AB12'))).toBe('••••••AB12');
    expect(maskCode(codeTail('ABCDEFGH'))).toBe('••••••EFGH');
    expect(codeTail('ABCDEFG')).toBe('EFG');
    expect(codeTail('ABCD')).toBe('CD');
    // The length is not shown: a long and a short code look alike.
    expect(maskCode(codeTail('X'.repeat(60) + 'AB12'))).toBe(maskCode(codeTail('WXYZAB12')));
  });

  it('ignores case only for deduplication', () => {
    expect(normaliseCode('ab12-Cd')).toBe('AB12-CD');
  });
});

describe('checkImportCodes', () => {
  it('trims, reports invalid codes and later repeats (case ignored) by index, and keeps the first of each', () => {
    const { accepted, rejected } = checkImportCodes(['  GOOD-0001 ', 'abc', 'GOOD-0002', 'good-0001', 'TAB\tCODE1', 'X'.repeat(65), 'ÆØÅÆØÅ', 'GOOD-0002', 'WITH SPACE 1']);
    expect(accepted).toEqual([
      { index: 0, code: 'GOOD-0001' },
      { index: 2, code: 'GOOD-0002' },
      { index: 8, code: 'WITH SPACE 1' },
    ]);
    expect(rejected).toEqual([
      { index: 1, reason: 'INVALID', masked: null },
      { index: 3, reason: 'DUPLICATE_IN_FILE', masked: '••••••0001' },
      { index: 4, reason: 'INVALID', masked: null },
      { index: 5, reason: 'INVALID', masked: null },
      { index: 6, reason: 'INVALID', masked: null },
      { index: 7, reason: 'DUPLICATE_IN_FILE', masked: '••••••0002' },
    ]);
  });

  it('takes 1 to 10,000 codes per call; otherwise BAD_USER_INPUT on codes', () => {
    expect(() => checkImportCodes([])).toThrow(expect.objectContaining({ field: 'codes' }));
    expect(() => checkImportCodes(Array.from({ length: LIMITS.voucherCodesPerImport + 1 }, (_, i) => `CODE-${i}`))).toThrow(/1 to 10,000/);
    expect(checkImportCodes(Array.from({ length: LIMITS.voucherCodesPerImport }, (_, i) => `CODE-${i}`)).accepted).toHaveLength(LIMITS.voucherCodesPerImport);
  });
});
