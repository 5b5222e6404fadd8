import { DomainError, forbidden, type Clock, type Viewer } from '@loyalty-graph/shared';
import { idempotent, withRetries } from '@loyalty-graph/shared/db';
import type { DataSource, EntityManager } from 'typeorm';
import { apiClientColumns, type ApiClientRow } from '../entities';
import { generateApiKey, hashApiKey, keyGrant, lastUsedIsStale, parseApiKey, type ApiKeyGrantValue, type KeyCandidate } from '../domain/api-keys';
import { checkFutureDate, checkInt, checkText, checkUuid, LIMITS } from '../domain/limits';
import { canManagePartners } from '../domain/policy';
import { checkScopes, type PartnerScopeName } from '../domain/scopes';
import { managedPartner } from './partners';

/** A write that made a key: the key only when this call made it (a replay returns null). */
export interface WithKey {
  clientId: string;
  key: string | null;
}

/**
 * Partner API clients and their keys. A key is generated before its transaction and returned only
 * when that transaction ran: the idempotency row stores the client id, never the key, so a replay
 * cannot show it again (and neither can the database).
 */
export class ApiClientService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async create(
    viewer: Viewer,
    input: { idempotencyKey: string; partnerId: string; name: string; scopes: readonly PartnerScopeName[]; expiresAt?: Date | null; rateLimitPerMinute?: number | null },
  ): Promise<WithKey> {
    const partner = await managedPartner(this.db, viewer, input.partnerId);
    const name = checkText(input.name, 'name', LIMITS.clientNameLength);
    const scopes = checkScopes(input.scopes, 'scopes');
    const now = this.clock.now();
    const expiresAt = input.expiresAt ? checkFutureDate(input.expiresAt, 'expiresAt', now) : null;
    const rateLimit = input.rateLimitPerMinute == null ? null : checkInt(input.rateLimitPerMinute, 'rateLimitPerMinute', 1, LIMITS.rateLimitPerMinute);
    if (partner.status === 'ENDED') throw new DomainError('PARTNER_ENDED', 'An ENDED partner gets no API clients', 'partnerId');
    const { idempotencyKey, ...request } = input;
    const fresh = generateApiKey();
    const { result, replayed } = await idempotent(
      this.db,
      { programId: partner.programId, key: idempotencyKey, operation: 'createPartnerApiClient', input: request },
      async (tx) => {
        const [client] = (await tx.query(
          `INSERT INTO partner_api_clients (partner_id, name, scopes, expires_at, rate_limit_per_minute, created_at) VALUES ($1, $2, $3::text[], $4, $5, $6) RETURNING id`,
          [partner.id, name, scopes, expiresAt, rateLimit, now],
        )) as { id: string }[];
        await insertKey(tx, client!.id, fresh, now);
        return { clientId: client!.id };
      },
      this.clock,
    );
    return { clientId: result.clientId, key: replayed ? null : fresh.key };
  }

  /**
   * A new key; the current one works on until now + overlap. A client has at most two live keys:
   * a key still inside an earlier rotation's overlap stops now (it was already on its way out).
   */
  async rotate(viewer: Viewer, input: { idempotencyKey: string; clientId: string; overlapMinutes: number }): Promise<WithKey> {
    const client = await this.managedClient(viewer, input.clientId);
    const overlap = checkInt(input.overlapMinutes, 'overlapMinutes', 0, LIMITS.overlapMinutes);
    const { idempotencyKey, ...request } = input;
    const fresh = generateApiKey();
    const { result, replayed } = await idempotent(
      this.db,
      { programId: client.programId, key: idempotencyKey, operation: 'rotatePartnerApiKey', input: request },
      async (tx) => {
        // The client's row lock orders rotations and revocations of one client.
        const [locked] = (await tx.query(`SELECT revoked_at AS "revokedAt" FROM partner_api_clients WHERE id = $1 FOR UPDATE`, [client.id])) as { revokedAt: Date | null }[];
        if (locked!.revokedAt) throw new DomainError('CLIENT_REVOKED', 'The API client is revoked: create a new one', 'clientId');
        const now = this.clock.now();
        await tx.query(`UPDATE partner_api_keys SET expires_at = $2 WHERE client_id = $1 AND revoked_at IS NULL AND expires_at > $2`, [client.id, now]);
        await tx.query(`UPDATE partner_api_keys SET expires_at = $2 WHERE client_id = $1 AND revoked_at IS NULL AND expires_at IS NULL`, [client.id, new Date(now.getTime() + overlap * 60_000)]);
        await insertKey(tx, client.id, fresh, now);
        return { clientId: client.id };
      },
      this.clock,
    );
    return { clientId: result.clientId, key: replayed ? null : fresh.key };
  }

  /** Every key stops at once. Revoking twice keeps the first time. */
  async revoke(viewer: Viewer, input: { clientId: string }): Promise<{ clientId: string }> {
    const client = await this.managedClient(viewer, input.clientId);
    return withRetries(() =>
      this.db.transaction(async (tx) => {
        const now = this.clock.now();
        await tx.query(`UPDATE partner_api_clients SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, [client.id, now]);
        await tx.query(`UPDATE partner_api_keys SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL`, [client.id, now]);
        return { clientId: client.id };
      }),
    );
  }

  /**
   * The gateway's question: what does this key grant? A malformed key is answered without a query.
   * The lookup is by the key's hash through a unique index, so no comparison of secrets happens in
   * this code at all: a timing difference could only tell a caller about hashes, and learning a
   * hash's prefix gives nothing towards a key (that is what a constant-time compare protects
   * against when secrets are compared directly).
   */
  async grant(key: string): Promise<ApiKeyGrantValue | null> {
    if (!parseApiKey(key)) return null;
    const [candidate] = (await this.db.query(
      `SELECT c.id AS "clientId", c.partner_id AS "partnerId", p.program_id AS "programId", c.scopes, k.expires_at AS "keyExpiresAt", k.revoked_at AS "keyRevokedAt",
              c.expires_at AS "clientExpiresAt", c.revoked_at AS "clientRevokedAt", c.rate_limit_per_minute AS "rateLimitPerMinute", p.status AS "partnerStatus", c.last_used_at AS "lastUsedAt"
       FROM partner_api_keys k JOIN partner_api_clients c ON c.id = k.client_id JOIN partners p ON p.id = c.partner_id
       WHERE k.hash = $1`,
      [hashApiKey(key)],
    )) as (KeyCandidate & { lastUsedAt: Date | null })[];
    if (!candidate) return null;
    const now = this.clock.now();
    const granted = keyGrant(candidate, now);
    if (granted && lastUsedIsStale(candidate.lastUsedAt, now)) {
      // At most one write a minute per client, however many requests: skipped in code when the
      // row read is fresh, and conditional in SQL so replicas racing on a stale one write once.
      await this.db.query(`UPDATE partner_api_clients SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '1 minute')`, [candidate.clientId, now]);
    }
    return granted;
  }

  private async managedClient(viewer: Viewer, clientId: string): Promise<ApiClientRow & { programId: string }> {
    const id = checkUuid(clientId, 'clientId');
    const [client] = (await this.db.query(`SELECT ${apiClientColumns}, p.program_id AS "programId" FROM partner_api_clients c JOIN partners p ON p.id = c.partner_id WHERE c.id = $1`, [id])) as (ApiClientRow & {
      programId: string;
    })[];
    if (!client) throw new DomainError('CLIENT_NOT_FOUND', 'There is no such API client', 'clientId');
    if (!canManagePartners(viewer, client.programId)) throw forbidden('Only the program’s administrators manage its partners');
    return client;
  }
}

async function insertKey(tx: EntityManager, clientId: string, key: { hash: string; display: string }, now: Date): Promise<void> {
  await tx.query(`INSERT INTO partner_api_keys (client_id, hash, display, created_at) VALUES ($1, $2, $3, $4)`, [clientId, key.hash, key.display, now]);
}
