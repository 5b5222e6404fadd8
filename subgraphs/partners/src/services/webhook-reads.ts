import { badUserInput, decodeCursor, decodeInstantIdCursor, encodeCursor, pageSize, toConnection, type Connection } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import { webhookAttemptColumns, webhookMessageColumns, type WebhookAttemptRow, type WebhookMessageRow, type WebhookMessageStatus } from '../entities/webhooks';

/** An endpoint's messages, newest first, keyset-paged by their sequence number. */
export async function endpointMessages(
  db: DataSource,
  endpointId: string,
  args: { status?: WebhookMessageStatus | null; first?: number | null; after?: string | null },
): Promise<Connection<WebhookMessageRow & { seq: string }>> {
  const limit = pageSize(args.first);
  const values = decodeCursor(args.after, 1);
  if (values && !/^\d{1,18}$/.test(values[0]!)) throw badUserInput('after is not a cursor this list produced', 'after');
  const rows = (await db.query(
    `SELECT ${webhookMessageColumns}, m.seq::text AS seq FROM webhook_messages m
     WHERE m.endpoint_id = $1 AND ($2::text IS NULL OR m.status = $2) AND ($3::bigint IS NULL OR m.seq < $3)
     ORDER BY m.seq DESC LIMIT $4`,
    [endpointId, args.status ?? null, values?.[0] ?? null, limit + 1],
  )) as (WebhookMessageRow & { seq: string })[];
  return toConnection(rows, limit, (row) => encodeCursor([row.seq]));
}

/** A message's attempts, newest first, keyset-paged by (attempted_at, id). */
export async function messageAttempts(db: DataSource, messageId: string, args: { first?: number | null; after?: string | null }): Promise<Connection<WebhookAttemptRow>> {
  const limit = pageSize(args.first);
  const after = decodeInstantIdCursor(args.after);
  const rows = (await db.query(
    `SELECT ${webhookAttemptColumns} FROM webhook_attempts a
     WHERE a.message_id = $1 AND ($2::timestamptz IS NULL OR (a.attempted_at, a.id) < ($2::timestamptz, $3::uuid))
     ORDER BY a.attempted_at DESC, a.id DESC LIMIT $4`,
    [messageId, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
  )) as WebhookAttemptRow[];
  return toConnection(rows, limit, (row) => encodeCursor([row.attemptedAt.toISOString(), row.id]));
}
