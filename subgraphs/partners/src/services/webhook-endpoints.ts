import { randomUUID } from 'node:crypto';
import { DomainError, forbidden, InputError, type Clock, type Logger, type Viewer } from '@loyalty-graph/shared';
import { withRetries } from '@loyalty-graph/shared/db';
import type { DataSource, EntityManager } from 'typeorm';
import { partnerColumns, type PartnerRow } from '../entities';
import { webhookEndpointColumns, type WebhookEndpointRow, type WebhookMessageStatus } from '../entities/webhooks';
import { checkInt, checkUuid, optionalText } from '../domain/limits';
import { canManageWebhooks } from '../domain/policy';
import { checkEndpointUrl, generateWebhookSecret, WEBHOOK_EVENT_TYPES, WEBHOOK_LIMITS, type WebhookEventTypeName } from '../domain/webhooks';
import { endpointMessages, messageAttempts } from './webhook-reads';
import type { WebhookSettings } from './webhook-settings';

/** A write that made a secret: shown once, in this answer only. */
export interface WithSecret {
  endpointId: string;
  secret: string;
}

const endpointNotFound = () => new DomainError('ENDPOINT_NOT_FOUND', 'There is no such webhook endpoint', 'endpointId');

/**
 * Partners' webhook endpoints: subscribe a URL to event types, change it, rotate its signing
 * secret, delete it. A partner manages its own (API key scope webhooks:manage); the program's
 * admins and operators manage any of the program's. The secret is shown once and stored encrypted.
 */
export class WebhookEndpointService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly settings: WebhookSettings,
    private readonly logger: Logger,
  ) {}

  async create(viewer: Viewer, input: { partnerId?: string | null; url: string; description?: string | null; eventTypes: readonly WebhookEventTypeName[] }): Promise<WithSecret> {
    const partnerId = input.partnerId ?? (viewer.kind === 'PARTNER' ? viewer.partnerId : null);
    if (!partnerId) throw new InputError('partnerId is required', 'partnerId');
    const url = checkEndpointUrl(input.url, 'url', this.settings.production);
    const description = optionalText(input.description, 'description', WEBHOOK_LIMITS.descriptionLength);
    const eventTypes = checkEventTypes(input.eventTypes);
    const secret = generateWebhookSecret();
    return withRetries(() =>
      this.db.transaction(async (tx) => {
        // The partner's row lock counts its endpoints one creation at a time.
        const [partner] = (await tx.query(`SELECT ${partnerColumns} FROM partners p WHERE p.id = $1 FOR UPDATE`, [checkUuid(partnerId, 'partnerId')])) as PartnerRow[];
        if (!partner) throw new DomainError('PARTNER_NOT_FOUND', 'There is no such partner', 'partnerId');
        if (!canManageWebhooks(viewer, partner)) throw forbidden('Only the partner (webhooks:manage) and the program’s administrators manage its webhooks');
        if (partner.status === 'ENDED') throw new DomainError('PARTNER_ENDED', 'An ENDED partner gets no webhook endpoints', 'partnerId');
        const [{ n }] = (await tx.query(`SELECT count(*)::int AS n FROM webhook_endpoints WHERE partner_id = $1`, [partner.id])) as [{ n: number }];
        if (n >= WEBHOOK_LIMITS.endpointsPerPartner) {
          throw new DomainError('TOO_MANY_ENDPOINTS', `A partner has at most ${WEBHOOK_LIMITS.endpointsPerPartner} webhook endpoints`, 'partnerId');
        }
        const now = this.clock.now();
        // The id is drawn here: the secret's ciphertext is bound to it (additional data).
        const row = { id: randomUUID() };
        await tx.query(
          `INSERT INTO webhook_endpoints (id, partner_id, url, description, event_types, enabled, secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5::text[], true, $6, $7, $7)`,
          [row.id, partner.id, url, description, eventTypes, this.settings.cipher.encrypt(secret, row.id), now],
        );
        return { endpointId: row.id, secret };
      }),
    );
  }

  /**
   * Changes the URL, description or event types, or enables / disables it. Enabling an endpoint
   * the deliverer disabled starts its failure clock afresh; its pending messages go out again.
   */
  async update(
    viewer: Viewer,
    input: { endpointId: string; url?: string | null; description?: string | null; eventTypes?: readonly WebhookEventTypeName[] | null; enabled?: boolean | null },
  ): Promise<{ endpointId: string }> {
    const url = input.url == null ? null : checkEndpointUrl(input.url, 'url', this.settings.production);
    const description = input.description === undefined ? undefined : optionalText(input.description, 'description', WEBHOOK_LIMITS.descriptionLength);
    const eventTypes = input.eventTypes == null ? null : checkEventTypes(input.eventTypes);
    return this.locked(viewer, input.endpointId, async (tx, endpoint, now) => {
      const enabled = input.enabled ?? endpoint.enabled;
      const turnedOff = endpoint.enabled && !enabled;
      const turnedOn = !endpoint.enabled && enabled;
      await tx.query(
        `UPDATE webhook_endpoints SET url = COALESCE($2, url), description = CASE WHEN $3 THEN $4 ELSE description END, event_types = COALESCE($5::text[], event_types),
           enabled = $6,
           disabled_at = CASE WHEN $7 THEN $9::timestamptz WHEN $8 THEN NULL ELSE disabled_at END,
           disabled_reason = CASE WHEN $7 THEN $10 WHEN $8 THEN NULL ELSE disabled_reason END,
           failing_since = CASE WHEN $8 THEN NULL ELSE failing_since END,
           updated_at = $9
         WHERE id = $1`,
        [endpoint.id, url, description !== undefined, description ?? null, eventTypes, enabled, turnedOff, turnedOn, now, `Disabled by ${viewer.kind === 'PARTNER' ? 'the partner' : 'the program’s administrators'}`],
      );
      return { endpointId: endpoint.id };
    });
  }

  /**
   * A new secret (shown once). The current one keeps signing next to it until now + overlap, so
   * receivers can switch without losing a message: each delivery carries both signatures meanwhile.
   * A secret still inside an earlier rotation's overlap stops now.
   */
  async rotateSecret(viewer: Viewer, input: { endpointId: string; overlapMinutes: number }): Promise<WithSecret> {
    const overlap = checkInt(input.overlapMinutes, 'overlapMinutes', 0, WEBHOOK_LIMITS.overlapMinutes);
    const secret = generateWebhookSecret();
    return this.locked(viewer, input.endpointId, async (tx, endpoint, now) => {
      await tx.query(
        `UPDATE webhook_endpoints SET previous_secret = CASE WHEN $3 > 0 THEN secret END, previous_secret_expires_at = CASE WHEN $3 > 0 THEN $4::timestamptz + make_interval(mins => $3) END,
           secret = $2, updated_at = $4 WHERE id = $1`,
        [endpoint.id, this.settings.cipher.encrypt(secret, endpoint.id), overlap, now],
      );
      return { endpointId: endpoint.id, secret };
    });
  }

  /** Deletes it with its messages and attempts: nothing more is delivered to it. */
  async delete(viewer: Viewer, input: { endpointId: string }): Promise<{ endpointId: string }> {
    return this.locked(viewer, input.endpointId, async (tx, endpoint) => {
      await tx.query(`DELETE FROM webhook_endpoints WHERE id = $1`, [endpoint.id]);
      this.logger.info('webhook endpoint deleted', { endpointId: endpoint.id, partnerId: endpoint.partnerId, by: viewer.kind });
      return { endpointId: endpoint.id };
    });
  }

  /**
   * Sends a message again (delivered, dead or pending: at once, its tries counted afresh) under the
   * same webhook-id. Replaying twice before it went out is one delivery.
   */
  async replayMessage(viewer: Viewer, input: { webhookId: string }): Promise<{ messageId: string }> {
    const [found] = (await this.db.query(`SELECT id, endpoint_id AS "endpointId" FROM webhook_messages WHERE webhook_id = $1`, [input.webhookId.trim()])) as { id: string; endpointId: string }[];
    if (!found) throw new DomainError('MESSAGE_NOT_FOUND', 'There is no such webhook message', 'webhookId');
    const id = found.id;
    return this.locked(viewer, found.endpointId, async (tx, _endpoint, now) => {
      await tx.query(`UPDATE webhook_messages SET status = 'PENDING', tries = 0, next_attempt_at = $2, leased_until = NULL WHERE id = $1`, [id, now]);
      return { messageId: id };
    });
  }

  /** Every message to the endpoint created since `since` goes out again, oldest first, under the same ids. */
  async replaySince(viewer: Viewer, input: { endpointId: string; since: Date }): Promise<{ replayed: number }> {
    return this.locked(viewer, input.endpointId, async (tx, endpoint, now) => {
      if (input.since.getTime() > now.getTime()) throw new InputError('since must not be in the future', 'since');
      const [rows] = (await tx.query(
        `UPDATE webhook_messages SET status = 'PENDING', tries = 0, next_attempt_at = $3, leased_until = NULL WHERE endpoint_id = $1 AND created_at >= $2 RETURNING id`,
        [endpoint.id, input.since, now],
      )) as [unknown[], number];
      return { replayed: rows.length };
    });
  }

  /** An endpoint's messages (the caller checked the endpoint is the viewer's to see). */
  messages(endpointId: string, args: { status?: WebhookMessageStatus | null; first?: number | null; after?: string | null }) {
    return endpointMessages(this.db, endpointId, args);
  }

  /** A message's attempts (the caller checked its endpoint). */
  attempts(messageId: string, args: { first?: number | null; after?: string | null }) {
    return messageAttempts(this.db, messageId, args);
  }

  /** The endpoint for a read, checked: null when there is none; FORBIDDEN when it is not the viewer's to see. */
  async visible(viewer: Viewer, endpoint: WebhookEndpointRow | null): Promise<WebhookEndpointRow | null> {
    if (endpoint && !canManageWebhooks(viewer, { id: endpoint.partnerId, programId: endpoint.programId })) throw forbidden('Only the partner and the program’s administrators see its webhooks');
    return endpoint;
  }

  /** Runs a change with the endpoint's row locked (orders changes, rotations, replays of one endpoint). */
  private async locked<T>(viewer: Viewer, endpointId: string, change: (tx: EntityManager, endpoint: WebhookEndpointRow, now: Date) => Promise<T>): Promise<T> {
    const id = checkUuid(endpointId, 'endpointId');
    return withRetries(() =>
      this.db.transaction(async (tx) => {
        const [endpoint] = (await tx.query(`SELECT ${webhookEndpointColumns} FROM webhook_endpoints e JOIN partners p ON p.id = e.partner_id WHERE e.id = $1 FOR UPDATE OF e`, [id])) as WebhookEndpointRow[];
        if (!endpoint) throw endpointNotFound();
        if (!canManageWebhooks(viewer, { id: endpoint.partnerId, programId: endpoint.programId })) {
          throw forbidden('Only the partner (webhooks:manage) and the program’s administrators manage its webhooks');
        }
        return change(tx, endpoint, this.clock.now());
      }),
    );
  }
}

/** 1 to 5 event types, each once, as their `type` strings. */
function checkEventTypes(names: readonly WebhookEventTypeName[]): string[] {
  const count = Object.keys(WEBHOOK_EVENT_TYPES).length;
  if (names.length < 1 || names.length > count) throw new InputError(`eventTypes must list 1 to ${count} event types`, 'eventTypes');
  if (new Set(names).size !== names.length) throw new InputError('eventTypes must list each event type once', 'eventTypes');
  return names.map((name) => WEBHOOK_EVENT_TYPES[name]);
}
