import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Clock, Logger } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import { isPublicAddress, responseSnippet, retryDelayMs, shouldDisable, signatureHeader } from '../domain/webhooks';
import type { WebhookSettings } from './webhook-settings';

/** What one HTTP attempt came to. */
export interface AttemptOutcome {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseSnippet: string | null;
  succeeded: boolean;
}

export interface DeliveryOptions {
  /** Messages claimed at once (and sent concurrently). */
  batchSize: number;
  /**
   * How long a claim lasts: past it, another deliverer (a replica, or this one after a restart)
   * takes the message over. Longer than an attempt's timeout, so a live attempt is not sent twice.
   */
  leaseMs: number;
  /** Rounds one run of the job makes at most, so a backlog cannot hold the job forever. */
  maxRounds: number;
}

interface Claimed {
  id: string;
  webhookId: string;
  endpointId: string;
  url: string;
  body: string;
  tries: number;
  secret: Buffer;
  previousSecret: Buffer | null;
}

const MAX_RESPONSE_BYTES = 4_096;
/** How long delivered and dead messages stay visible (and replayable). */
export const MESSAGE_RETENTION_DAYS = 30;

/**
 * Delivers pending webhook messages (the `webhook-delivery` job, or a loop of `runOnce`).
 *
 * - Claims due messages with `FOR UPDATE SKIP LOCKED` and a lease (`leased_until`): several
 *   deliverers never claim one message at once, and a deliverer that dies mid-batch leaves leases
 *   that expire, after which another takes the messages: none is lost. A message sent just before
 *   the crash is sent again (at least once) under the same webhook-id.
 * - Per endpoint and member, only the oldest pending message is due: a member's next message waits
 *   until the previous one is delivered or dead.
 * - A 2xx answer is delivered; anything else (status, timeout, refused connection) is retried on
 *   the schedule in domain/webhooks.ts, then dead (FAILED). An endpoint failing every attempt for
 *   five days is disabled and the partner told (disabledReason, and a warning in the log).
 */
export class WebhookDeliverer {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly settings: WebhookSettings,
    private readonly logger: Logger,
    private readonly options: DeliveryOptions = { batchSize: 50, leaseMs: settings.timeoutMs + 30_000, maxRounds: 10 },
  ) {}

  /** One job run: rounds of claims until nothing is due (or maxRounds). Returns the attempts made. */
  async run(): Promise<number> {
    let attempts = 0;
    for (let round = 0; round < this.options.maxRounds; round++) {
      const made = await this.runOnce();
      attempts += made;
      if (made === 0) break;
    }
    return attempts;
  }

  /**
   * Forgets messages delivered or dead for longer than MESSAGE_RETENTION_DAYS, with their attempts
   * (the webhook-retention job), in slices of short transactions. Pending ones stay whatever their
   * age. Returns how many went.
   */
  async prune(slice = 5_000): Promise<number> {
    const before = new Date(this.clock.now().getTime() - MESSAGE_RETENTION_DAYS * 86_400_000);
    let pruned = 0;
    for (;;) {
      const [rows] = (await this.db.query(
        `DELETE FROM webhook_messages WHERE id IN (SELECT id FROM webhook_messages WHERE status <> 'PENDING' AND created_at < $1 LIMIT $2) RETURNING id`,
        [before, slice],
      )) as [unknown[], number];
      pruned += rows.length;
      if (rows.length < slice) return pruned;
    }
  }

  /** Claims one batch and attempts each message in it (concurrently); returns how many. */
  async runOnce(): Promise<number> {
    const claimed = await this.claim();
    await Promise.all(claimed.map((message) => this.deliver(message)));
    return claimed.length;
  }

  private async claim(): Promise<Claimed[]> {
    const now = this.clock.now();
    const [rows] = (await this.db.query(
      `WITH due AS (
         SELECT m.id FROM webhook_messages m JOIN webhook_endpoints e ON e.id = m.endpoint_id
         WHERE m.status = 'PENDING' AND m.next_attempt_at <= $1 AND (m.leased_until IS NULL OR m.leased_until <= $1) AND e.enabled
           AND NOT EXISTS (SELECT 1 FROM webhook_messages b WHERE b.endpoint_id = m.endpoint_id AND b.ordering_key = m.ordering_key AND b.status = 'PENDING' AND b.seq < m.seq)
         ORDER BY m.next_attempt_at, m.seq
         LIMIT $2
         FOR UPDATE OF m SKIP LOCKED)
       UPDATE webhook_messages m SET leased_until = $3
       FROM due, webhook_endpoints e
       WHERE m.id = due.id AND e.id = m.endpoint_id
       RETURNING m.id, m.webhook_id AS "webhookId", m.endpoint_id AS "endpointId", e.url, m.body, m.tries, e.secret,
         CASE WHEN e.previous_secret_expires_at > $1 THEN e.previous_secret END AS "previousSecret"`,
      [now, this.options.batchSize, new Date(now.getTime() + this.options.leaseMs)],
    )) as [Claimed[], number];
    return rows;
  }

  private async deliver(message: Claimed): Promise<void> {
    const { cipher } = this.settings;
    const attemptedAt = this.clock.now();
    let secrets: string[];
    try {
      secrets = [cipher.decrypt(message.secret, message.endpointId), ...(message.previousSecret ? [cipher.decrypt(message.previousSecret, message.endpointId)] : [])];
    } catch {
      // Encrypted under another PARTNERS_WEBHOOK_KEY: nothing can be signed until the secret is
      // rotated. A failed attempt that says so (visible to the partner and operators), never a
      // silent loop of claims.
      this.logger.error('webhook secret cannot be decrypted: was PARTNERS_WEBHOOK_KEY changed? Rotate the endpoint’s secret', { endpointId: message.endpointId });
      const error = 'the endpoint’s signing secret cannot be decrypted (the operator’s key changed): rotate the secret';
      await this.record(message, attemptedAt, { statusCode: null, durationMs: 0, error, responseSnippet: null, succeeded: false });
      return;
    }
    const timestamp = Math.floor(attemptedAt.getTime() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'LoyaltyGraph-Webhooks/1',
      'webhook-id': message.webhookId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(secrets, message.webhookId, timestamp, message.body),
    };
    const outcome = await post(message.url, headers, message.body, this.settings.timeoutMs, this.settings.production);
    await this.record(message, attemptedAt, outcome);
  }

  /** The attempt, the message's new state and the endpoint's failure clock, in one transaction. */
  private async record(message: Claimed, attemptedAt: Date, outcome: AttemptOutcome): Promise<void> {
    const now = this.clock.now();
    const tries = message.tries + 1;
    const delay = outcome.succeeded ? null : retryDelayMs(tries);
    await this.db.transaction(async (tx) => {
      const [updated] = (await tx.query(
        `UPDATE webhook_messages SET tries = $2, status = $3, next_attempt_at = $4, leased_until = NULL, last_attempt_at = $5, delivered_at = CASE WHEN $3 = 'DELIVERED' THEN $5 ELSE delivered_at END
         WHERE id = $1 AND status = 'PENDING' RETURNING id`,
        [message.id, tries, outcome.succeeded ? 'DELIVERED' : delay === null ? 'FAILED' : 'PENDING', delay === null ? now : new Date(now.getTime() + delay), attemptedAt],
      )) as [unknown[], number];
      // Deleted (or replayed and delivered by another deliverer) meanwhile: nothing to record.
      if (!updated.length) return;
      await tx.query(
        `INSERT INTO webhook_attempts (message_id, attempted_at, status_code, duration_ms, error, response_snippet, succeeded) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [message.id, attemptedAt, outcome.statusCode, outcome.durationMs, outcome.error, outcome.responseSnippet, outcome.succeeded],
      );
      if (outcome.succeeded) {
        await tx.query(`UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`, [message.endpointId]);
        return;
      }
      if (delay === null) this.logger.warn('webhook message dead-lettered after its last try', { webhookId: message.webhookId, endpointId: message.endpointId, tries });
      const [[endpoint]] = (await tx.query(
        `UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2) WHERE id = $1 RETURNING failing_since AS "failingSince", enabled, partner_id AS "partnerId"`,
        [message.endpointId, attemptedAt],
      )) as [{ failingSince: Date; enabled: boolean; partnerId: string }[], number];
      if (endpoint?.enabled && shouldDisable(endpoint.failingSince, now)) {
        const reason = `Every delivery failed since ${endpoint.failingSince.toISOString()}: disabled automatically after 5 days. Fix the receiver, then enable the endpoint again (updateWebhookEndpoint); its pending messages go out then.`;
        await tx.query(`UPDATE webhook_endpoints SET enabled = false, disabled_at = $2, disabled_reason = $3, updated_at = $2 WHERE id = $1`, [message.endpointId, now, reason]);
        // The partner is told through the endpoint (disabledAt, disabledReason) and operators through the log.
        this.logger.warn('webhook endpoint disabled: every delivery failed for 5 days', { endpointId: message.endpointId, partnerId: endpoint.partnerId, failingSince: endpoint.failingSince });
      }
    });
  }
}

/**
 * One POST. In production the address a name resolves to is checked at connect time (the lookup
 * hook), so a partner's DNS cannot point our deliverer at our own network after the URL was accepted.
 */
export function post(url: string, headers: Record<string, string>, body: string, timeoutMs: number, production: boolean): Promise<AttemptOutcome> {
  const started = performance.now();
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  // An address in the URL itself is never looked up (no hook runs): checked here.
  const literal = target.hostname.replace(/^\[|\]$/g, '');
  if (production && isIP(literal) && !isPublicAddress(literal)) {
    return Promise.resolve({ statusCode: null, durationMs: 0, error: `refused: ${literal} is not a public address`, responseSnippet: null, succeeded: false });
  }
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: Omit<AttemptOutcome, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, durationMs: Math.round(performance.now() - started) });
    };
    const req = send(target, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, ...(production ? { lookup: publicOnlyLookup } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const text = Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
        done({ statusCode: status, error: status >= 200 && status < 300 ? null : `HTTP ${status}`, responseSnippet: text ? responseSnippet(text) : null, succeeded: status >= 200 && status < 300 });
      });
      res.on('error', (error) => done({ statusCode: res.statusCode ?? null, error: error.message, responseSnippet: null, succeeded: false }));
    });
    // A receiver that hangs is a failed attempt after timeoutMs, whatever it does afterwards.
    const timer = setTimeout(() => {
      done({ statusCode: null, error: `timed out after ${timeoutMs} ms`, responseSnippet: null, succeeded: false });
      req.destroy();
    }, timeoutMs);
    req.on('error', (error) => done({ statusCode: null, error: error.message, responseSnippet: null, succeeded: false }));
    req.end(body);
  });
}

const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) return callback(Object.assign(new Error(`refused: ${hostname} resolves to a non-public address (${refused.address})`), { code: 'ENOTPUBLIC' }), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};
