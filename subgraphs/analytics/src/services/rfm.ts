import type { DataSource, EntityManager } from 'typeorm';
import { rfmFromBreakpoints, type Breakpoint, type RfmScores } from '../domain/segments';

/**
 * A program's RFM breakpoints, recomputed in one statement over its members with a purchase:
 * `ceil(5 × cume_dist)` on integers — (5 × members as good or worse + n − 1) div n, where "as good
 * or worse" is the window's count up to and including the member's peers, so equal values share a
 * score. R orders days descending (fewer days is better). The same rule as domain/segments.ts
 * `breakpointsOf`, which the unit tests check on ties. Scoring one member then reads 15 rows, not
 * the program's ranking.
 */
export async function refreshBreakpoints(tx: EntityManager, programId: string, now: Date): Promise<void> {
  await tx.query(`DELETE FROM rfm_breakpoints WHERE program_id = $1`, [programId]);
  await tx.query(
    `WITH base AS (
       SELECT floor(extract(epoch FROM ($2::timestamptz - last_purchase_at)) / 86400)::numeric AS r, purchases::numeric AS f, spend AS m
         FROM member_state WHERE program_id = $1 AND purchases > 0 AND last_purchase_at IS NOT NULL
     ), scored AS (
       SELECT r, f, m,
              (5 * count(*) OVER (ORDER BY r DESC) + count(*) OVER () - 1) / count(*) OVER () AS rs,
              (5 * count(*) OVER (ORDER BY f) + count(*) OVER () - 1) / count(*) OVER () AS fs,
              (5 * count(*) OVER (ORDER BY m) + count(*) OVER () - 1) / count(*) OVER () AS ms
         FROM base
     )
     INSERT INTO rfm_breakpoints (program_id, dimension, score, bound, computed_at)
     SELECT $1, 'R', rs, max(r), $2 FROM scored GROUP BY rs
     UNION ALL SELECT $1, 'F', fs, min(f), $2 FROM scored GROUP BY fs
     UNION ALL SELECT $1, 'M', ms, min(m), $2 FROM scored GROUP BY ms`,
    [programId, now],
  );
}

export async function breakpointsOf(db: Pick<EntityManager, 'query'>, programId: string): Promise<Breakpoint[]> {
  return (await db.query(`SELECT dimension, score, bound::text AS bound FROM rfm_breakpoints WHERE program_id = $1`, [programId])) as Breakpoint[];
}

export interface MemberRfm extends RfmScores {
  recencyDays: number;
  frequency: number;
  monetary: string;
}

/**
 * A member's RFM from the current breakpoints (null when analytics knows no purchase of theirs),
 * and how many breakpoints there were: scored from the very rows counted, so never from an older set.
 */
export async function memberRfm(db: DataSource, memberId: string, now: Date): Promise<{ programId: string; rfm: MemberRfm | null; breakpoints: number } | null> {
  const [state] = (await db.query(
    `SELECT program_id AS "programId", purchases, spend::text AS spend, last_purchase_at AS "lastPurchaseAt" FROM member_state WHERE member_id = $1 LIMIT 1`,
    [memberId],
  )) as { programId: string; purchases: number; spend: string; lastPurchaseAt: Date | null }[];
  if (!state) return null;
  const breakpoints = await breakpointsOf(db, state.programId);
  const scores = rfmFromBreakpoints(breakpoints, state, now);
  if (!scores) return { programId: state.programId, rfm: null, breakpoints: breakpoints.length };
  return { programId: state.programId, breakpoints: breakpoints.length, rfm: { r: scores.r, f: scores.f, m: scores.m, recencyDays: scores.days, frequency: state.purchases, monetary: state.spend } };
}
