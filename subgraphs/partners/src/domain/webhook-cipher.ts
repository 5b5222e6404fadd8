import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Webhook secrets at rest. The deliverer signs with the secret itself, so it cannot be kept as a
 * hash like an API key: it is encrypted (AES-256-GCM, a random IV per secret, the endpoint's id as
 * additional data so a ciphertext copied to another endpoint does not decrypt there) with a key
 * derived from PARTNERS_WEBHOOK_KEY. A database dump alone reveals no secret.
 */
const FORMAT_V1 = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export class WebhookSecretCipher {
  private readonly key: Buffer;

  constructor(secret: Buffer) {
    if (secret.length !== KEY_BYTES) throw new Error(`a webhook secret key is ${KEY_BYTES} bytes, not ${secret.length}`);
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'loyalty-graph partners webhook-secret encryption', KEY_BYTES));
  }

  static random(): WebhookSecretCipher {
    return new WebhookSecretCipher(randomBytes(KEY_BYTES));
  }

  /** format | IV | tag | ciphertext. */
  encrypt(secret: string, endpointId: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(endpointId));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT_V1]), iv, cipher.getAuthTag(), body]);
  }

  /** Throws when the key is not the one it was encrypted with, or the bytes were changed. */
  decrypt(stored: Buffer, endpointId: string): string {
    if (stored[0] !== FORMAT_V1) throw new Error(`unknown webhook secret format ${stored[0]}`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, stored.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(Buffer.from(endpointId));
    decipher.setAuthTag(stored.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(stored.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}

/** Reads PARTNERS_WEBHOOK_KEY's value: base64 of exactly 32 bytes. */
export function parseWebhookKey(value: string): Buffer {
  const key = Buffer.from(value.trim(), 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== value.trim()) {
    throw new Error(`PARTNERS_WEBHOOK_KEY must be base64 of ${KEY_BYTES} random bytes (generate one with \`openssl rand -base64 32\`)`);
  }
  return key;
}
