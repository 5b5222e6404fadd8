import type { Logger } from '@loyalty-graph/shared';
import { parseWebhookKey, WebhookSecretCipher } from '../domain/webhook-cipher';

/** How the webhook endpoints and the deliverer behave, read from the environment once at start. */
export interface WebhookSettings {
  cipher: WebhookSecretCipher;
  /** Production: endpoint URLs must be https and public, and delivery refuses private addresses (SSRF guard). */
  production: boolean;
  /** How long a receiver has to answer one attempt (PARTNERS_WEBHOOK_TIMEOUT_MS, default 15 s). */
  timeoutMs: number;
}

/** The key for a process started without PARTNERS_WEBHOOK_KEY outside production: one per process. */
let processCipher: WebhookSecretCipher | null = null;

/**
 * PARTNERS_WEBHOOK_KEY (base64 of 32 bytes) encrypts endpoint secrets. Production refuses to start
 * without it: secrets encrypted with a key nobody kept cannot sign, and every endpoint would need a
 * rotation. Elsewhere a random key is made for this process, with a warning (`pnpm dev` keeps its
 * key in .partners-webhook-key so demo endpoints survive a restart).
 */
export function webhookSettingsFromEnv(env: Record<string, string | undefined>, logger: Pick<Logger, 'warn'>): WebhookSettings {
  const production = env['NODE_ENV'] === 'production';
  const timeoutMs = env['PARTNERS_WEBHOOK_TIMEOUT_MS'] ? Number(env['PARTNERS_WEBHOOK_TIMEOUT_MS']) : 15_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) throw new Error('PARTNERS_WEBHOOK_TIMEOUT_MS must be 100 to 60000 (milliseconds)');
  const value = env['PARTNERS_WEBHOOK_KEY'];
  if (value) return { cipher: new WebhookSecretCipher(parseWebhookKey(value)), production, timeoutMs };
  if (production) {
    throw new Error('PARTNERS_WEBHOOK_KEY is required in production: base64 of 32 random bytes (`openssl rand -base64 32`), kept as a secret; webhook endpoint secrets are encrypted with it');
  }
  if (!processCipher) {
    processCipher = WebhookSecretCipher.random();
    logger.warn('PARTNERS_WEBHOOK_KEY is not set: webhook secrets are encrypted with a random key for this process and cannot sign after a restart');
  }
  return { cipher: processCipher, production, timeoutMs };
}
