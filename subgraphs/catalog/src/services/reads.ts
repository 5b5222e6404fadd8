import { badUserInput, type Connection, decodeCursor, decodeInstantIdCursor, encodeCursor, pageSize, toConnection } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import { complaintColumns, rewardColumns, rewardOrderColumns, type ComplaintRow, type RewardOrderRow, type RewardRow, type RewardStatus } from '../entities';

/** A program's rewards, newest first, keyset-paged by (created_at, id). */
export async function programRewards(db: DataSource, programId: string, args: { status?: RewardStatus | null; first?: number | null; after?: string | null }): Promise<Connection<RewardRow>> {
  const limit = pageSize(args.first);
  const after = decodeInstantIdCursor(args.after);
  const rows = (await db.query(
    `SELECT ${rewardColumns} FROM rewards r
     WHERE r.program_id = $1 AND ($2::text IS NULL OR r.status = $2)
       AND ($3::timestamptz IS NULL OR (r.created_at, r.id) < ($3::timestamptz, $4::uuid))
     ORDER BY r.created_at DESC, r.id DESC LIMIT $5`,
    [programId, args.status ?? null, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
  )) as RewardRow[];
  return toConnection(rows, limit, (row) => encodeCursor([row.createdAt, row.id]));
}

/** An order list's cursor: the order's sequence number (a keyset that never skips or repeats). */
function seqCursor(after: string | null | undefined): string | null {
  const values = decodeCursor(after, 1);
  if (!values) return null;
  if (!/^\d{1,18}$/.test(values[0]!)) throw badUserInput('after is not a cursor this list produced', 'after');
  return values[0]!;
}

/** A member's orders, newest first. */
export async function memberOrders(db: DataSource, memberId: string, args: { first?: number | null; after?: string | null }): Promise<Connection<RewardOrderRow>> {
  const limit = pageSize(args.first);
  const after = seqCursor(args.after);
  const rows = (await db.query(
    `SELECT ${rewardOrderColumns} FROM reward_orders o WHERE o.member_id = $1 AND ($2::bigint IS NULL OR o.seq < $2) ORDER BY o.seq DESC LIMIT $3`,
    [memberId, after, limit + 1],
  )) as RewardOrderRow[];
  return toConnection(rows, limit, (row) => encodeCursor([row.seq]));
}

/** A program's orders, oldest first: fulfilment's work queue. */
export async function programOrders(
  db: DataSource,
  programId: string,
  args: { status?: string | null; placedFrom?: Date | null; placedUntil?: Date | null; first?: number | null; after?: string | null },
): Promise<Connection<RewardOrderRow>> {
  const limit = pageSize(args.first);
  const after = seqCursor(args.after);
  const rows = (await db.query(
    `SELECT ${rewardOrderColumns} FROM reward_orders o
     WHERE o.program_id = $1 AND ($2::text IS NULL OR o.status = $2) AND ($3::timestamptz IS NULL OR o.created_at >= $3)
       AND ($4::timestamptz IS NULL OR o.created_at < $4) AND ($5::bigint IS NULL OR o.seq > $5)
     ORDER BY o.seq LIMIT $6`,
    [programId, args.status ?? null, args.placedFrom ?? null, args.placedUntil ?? null, after, limit + 1],
  )) as RewardOrderRow[];
  return toConnection(rows, limit, (row) => encodeCursor([row.seq]));
}

/** A member's complaints, newest first. */
export async function memberComplaints(db: DataSource, memberId: string, args: { first?: number | null; after?: string | null }): Promise<Connection<ComplaintRow>> {
  const limit = pageSize(args.first);
  const after = seqCursor(args.after);
  const rows = (await db.query(
    `SELECT ${complaintColumns} FROM complaints c WHERE c.member_id = $1 AND ($2::bigint IS NULL OR c.seq < $2) ORDER BY c.seq DESC LIMIT $3`,
    [memberId, after, limit + 1],
  )) as ComplaintRow[];
  return toConnection(rows, limit, (row) => encodeCursor([row.seq]));
}

/**
 * A program's complaints, the one due first on top (the agents' queue), keyset-paged by (due_at,
 * id). `overdue` true: only those overdue now (open, deadline reached, not waiting for the
 * member, as domain/complaints.ts isOverdue); false: only those that are not.
 */
export async function programComplaints(
  db: DataSource,
  programId: string,
  args: { status?: string | null; overdue?: boolean | null; first?: number | null; after?: string | null },
  now: Date,
): Promise<Connection<ComplaintRow>> {
  const limit = pageSize(args.first);
  const after = decodeInstantIdCursor(args.after);
  const overdue = `(c.status NOT IN ('RESOLVED', 'REJECTED') AND c.paused_at IS NULL AND c.due_at <= $3)`;
  const rows = (await db.query(
    `SELECT ${complaintColumns} FROM complaints c
     WHERE c.program_id = $1 AND ($2::text IS NULL OR c.status = $2)
       AND ($4::boolean IS NULL OR ${overdue} = $4)
       AND ($5::timestamptz IS NULL OR (c.due_at, c.id) > ($5::timestamptz, $6::uuid))
     ORDER BY c.due_at, c.id LIMIT $7`,
    [programId, args.status ?? null, now, args.overdue ?? null, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
  )) as ComplaintRow[];
  return toConnection(rows, limit, (row) => encodeCursor([row.dueAt.toISOString(), row.id]));
}
