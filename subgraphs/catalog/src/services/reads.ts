import { type Connection, decodeInstantIdCursor, encodeCursor, pageSize, toConnection } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import { rewardColumns, type RewardRow, type RewardStatus } from '../entities';

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
