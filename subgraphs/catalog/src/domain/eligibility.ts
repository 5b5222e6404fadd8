import type { RewardRow } from '../entities';

/** Why a member cannot order a reward now (the schema's NotOrderableReason, in its order). */
export type NotOrderableReason = 'NOT_ENOUGH_POINTS' | 'TIER' | 'GROUP' | 'LIMIT_REACHED' | 'OUT_OF_STOCK' | 'NOT_AVAILABLE_NOW' | 'RETIRED';

/** What eligibility needs to know about a reward. */
export type RewardFacts = Pick<RewardRow, 'id' | 'limitCount' | 'status' | 'points' | 'availableFrom' | 'availableUntil' | 'stockReceived' | 'stockReserved' | 'stockSold' | 'tierIds' | 'memberGroupIds'>;

export interface MemberFacts {
  tierId: string | null;
  /** Their available points in the ledger. */
  availablePoints: number;
  /**
   * The member groups they are in (members' MemberJoinedGroup/MemberLeftGroup, kept in the member
   * snapshots); null while unknown (a snapshot from before group events whose member has not been
   * announced since): a group is then never taken as confirmed.
   */
  groupIds: readonly string[] | null;
  /**
   * The analytics segments they are in, of those the audience at hand lists (SegmentMembershipChanged,
   * kept in catalog's segment_memberships); absent or empty: none (a member never told about is in none).
   */
  segmentIds?: readonly string[];
  /** Units of each reward with a per-member limit they ordered within its window (absent: none). */
  orderedUnits?: ReadonlyMap<string, number>;
}

export interface RewardEligibilityValue {
  reward: RewardRow;
  orderable: boolean;
  reasons: NotOrderableReason[];
}

/** Units that can still be ordered; null when the stock is unlimited. */
export function availableStock(reward: Pick<RewardRow, 'stockReceived' | 'stockReserved' | 'stockSold'>): number | null {
  return reward.stockReceived === null ? null : reward.stockReceived - reward.stockReserved - reward.stockSold;
}

/**
 * Whether the member belongs to an audience of tiers, groups and (catalogs only) analytics
 * segments: nobody listed is everyone; otherwise their tier is listed, or one of their (known)
 * groups is, or one of the segments they are (known to be) in is.
 */
export function inAudience(
  audience: { tierIds: readonly string[]; memberGroupIds: readonly string[]; segmentIds?: readonly string[] },
  member: Pick<MemberFacts, 'tierId' | 'groupIds' | 'segmentIds'>,
): boolean {
  const segmentIds = audience.segmentIds ?? [];
  if (audience.tierIds.length === 0 && audience.memberGroupIds.length === 0 && segmentIds.length === 0) return true;
  if (member.tierId !== null && audience.tierIds.includes(member.tierId)) return true;
  if ((member.segmentIds ?? []).some((segment) => segmentIds.includes(segment))) return true;
  return (member.groupIds ?? []).some((group) => audience.memberGroupIds.includes(group));
}

/** Whether now lies in the window: from is inclusive, until exclusive. */
export function availableAt(reward: Pick<RewardRow, 'availableFrom' | 'availableUntil'>, now: Date): boolean {
  if (reward.availableFrom && now.getTime() < Date.parse(reward.availableFrom)) return false;
  if (reward.availableUntil && now.getTime() >= Date.parse(reward.availableUntil)) return false;
  return true;
}

/** Every reason this member cannot order the reward now; empty when they can. */
export function notOrderableReasons(reward: RewardFacts, member: MemberFacts, now: Date): NotOrderableReason[] {
  const reasons: NotOrderableReason[] = [];
  if (member.availablePoints < reward.points) reasons.push('NOT_ENOUGH_POINTS');
  if (!inAudience(reward, member)) {
    // Name what was listed: a reward for tiers says TIER, one for groups says GROUP.
    if (reward.tierIds.length > 0) reasons.push('TIER');
    if (reward.memberGroupIds.length > 0) reasons.push('GROUP');
  }
  if (reward.limitCount !== null && (member.orderedUnits?.get(reward.id) ?? 0) >= reward.limitCount) reasons.push('LIMIT_REACHED');
  const stock = availableStock(reward);
  if (stock !== null && stock <= 0) reasons.push('OUT_OF_STOCK');
  if (!availableAt(reward, now)) reasons.push('NOT_AVAILABLE_NOW');
  if (reward.status === 'RETIRED') reasons.push('RETIRED');
  return reasons;
}

export function eligibility(reward: RewardRow, member: MemberFacts, now: Date): RewardEligibilityValue {
  const reasons = notOrderableReasons(reward, member, now);
  return { reward, orderable: reasons.length === 0, reasons };
}
