import { membersEvents, type TierChangeReason } from '@loyalty-graph/shared/contracts';
import { emit } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';
import type { LadderTier } from '../domain/tier-qualification';
import { ladderColumns } from '../entities/tier';

/** The words a tier change is recorded with, before its reason's details. */
export const REASON_TEXT: Record<TierChangeReason, string> = {
  QUALIFIED: 'Qualified',
  PERIOD_END: 'Period ended below the tier’s threshold',
  GRACE_ENDED: 'Grace period ended below the tier’s threshold',
  MANUAL: 'Set by an agent',
};

/**
 * Every tier change, automatic or manual: a history row and a TierChanged event, in the caller's
 * transaction. The ladder, when the caller has it at hand, saves reading the two tiers' ranks;
 * `updateMember` moves the member's tier (and clears a pending downgrade) in the same statement.
 */
export async function recordTierChange(
  tx: EntityManager,
  change: {
    programId: string;
    memberId: string;
    fromTierId: string | null;
    toTierId: string | null;
    reason: TierChangeReason;
    text: string;
    changedBy: string | null;
    at: Date;
    ladder?: LadderTier[];
    updateMember?: boolean;
    /** False when only the history changes (an agent pinned the tier the member has). */
    announce?: boolean;
  },
): Promise<void> {
  await tx.query(
    `WITH moved AS (UPDATE members SET tier_id = $3, downgrade_due_at = NULL, updated_at = $8 WHERE id = $1 AND $9::boolean)
     INSERT INTO tier_changes (member_id, from_tier_id, to_tier_id, reason, reason_code, source, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [change.memberId, change.fromTierId, change.toTierId, change.text, change.reason, change.reason === 'MANUAL' ? 'MANUAL' : 'AUTOMATIC', change.changedBy, change.at, change.updateMember ?? false],
  );
  if (change.announce === false) return;
  const ranks = change.ladder ?? ((await tx.query(`SELECT ${ladderColumns} FROM tiers t WHERE t.id = ANY($1::uuid[])`, [[change.fromTierId, change.toTierId].filter(Boolean)])) as LadderTier[]);
  const rank = (id: string | null) => ranks.find((t) => t.id === id)?.rank ?? -1;
  const payload = {
    programId: change.programId,
    memberId: change.memberId,
    fromTierId: change.fromTierId,
    toTierId: change.toTierId,
    direction: rank(change.toTierId) > rank(change.fromTierId) ? ('UP' as const) : ('DOWN' as const),
    reason: change.reason,
    changedAt: change.at.toISOString(),
  };
  await emit(tx, membersEvents, [{ type: 'TierChanged', payload }], change.at);
}
