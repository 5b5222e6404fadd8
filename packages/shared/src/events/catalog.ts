/**
 * Every event payload, typed in one place (docs/events.md describes when each is emitted).
 * Payloads are versioned: adding an optional field keeps the version; removing or changing a
 * field is a new version, and producers keep emitting the old one until its consumers moved.
 */

/** Ledger events; aggregate `Member` (the member id). Every ledger payload carries `entryId`. */
export interface LedgerEventPayloads {
  PointsAccrued: { programId: string; memberId: string; purchaseId: string; points: number; statusPoints: number; pending: boolean; occurredAt: string; entryId: string };
  PointsPosted: { programId: string; memberId: string; purchaseId: string; points: number; statusPoints: number; entryId: string };
  PointsReturned: {
    programId: string;
    memberId: string;
    purchaseId: string;
    points: number;
    statusPoints: number;
    fromPending: number;
    fromPosted: number;
    writtenOff: number;
    statusFromPending: number;
    statusFromPosted: number;
    clawbackPolicy: 'NEGATIVE_BALANCE' | 'WRITE_OFF';
    entryId: string;
  };
  PointsHeld: { programId: string; memberId: string; holdId: string; points: number; entryId: string };
  PointsRedeemed: { programId: string; memberId: string; holdId: string; points: number; status: 'CAPTURED'; entryId: string };
  HoldReleased: { programId: string; memberId: string; holdId: string; points: number; status: 'RELEASED' | 'EXPIRED'; entryId: string };
  PointsAdjusted: { programId: string; memberId: string; points: number; reasonCode: string; entryId: string };
  PointsExpired: { programId: string; memberId: string; points: number; entryId: string };
  PointsReinstated: { programId: string; memberId: string; points: number; expiryEntryId: string; entryId: string };
  PointsTransferred: { programId: string; fromMemberId: string; toMemberId: string; points: number; entryId: string };
  PointsDonated: { programId: string; memberId: string; charityId: string; points: number; entryId: string };
  /** A referral's bonus was credited to one member (aggregate: that member). */
  ReferralBonusCredited: { programId: string; memberId: string; referralId: string; role: 'REFERRER' | 'REFEREE'; points: number; entryId: string };
}

export type TierChangeReason = 'QUALIFIED' | 'PERIOD_END' | 'GRACE_ENDED' | 'MANUAL';

/** Members events; aggregate `Member` (the member id). */
export interface MembersEventPayloads {
  MemberEnrolled: { programId: string; memberId: string; channel: 'SELF' | 'AGENT' | 'PARTNER'; referralId: string | null; enrolledAt: string };
  TierChanged: {
    programId: string;
    memberId: string;
    fromTierId: string | null;
    toTierId: string | null;
    /** Up or down by rank; MANUAL changes say so in `reason`. */
    direction: 'UP' | 'DOWN';
    reason: TierChangeReason;
    changedAt: string;
  };
  /**
   * A referral met the program's condition (the friend enrolled, or made a first purchase): the
   * ledger credits the bonuses. Emitted once per referral; the ledger still guards by referralId.
   */
  ReferralQualified: {
    programId: string;
    referralId: string;
    referrerId: string;
    refereeId: string;
    referrerBonus: number;
    refereeBonus: number;
    qualifiedAt: string;
  };
}

export type EventPayloads = LedgerEventPayloads & MembersEventPayloads;
export type EventType = keyof EventPayloads;

/** The version each payload type is at now. */
export const EVENT_VERSIONS: { [K in EventType]: number } = {
  PointsAccrued: 1,
  PointsPosted: 1,
  PointsReturned: 1,
  PointsHeld: 1,
  PointsRedeemed: 1,
  HoldReleased: 1,
  PointsAdjusted: 1,
  PointsExpired: 1,
  PointsReinstated: 1,
  PointsTransferred: 1,
  PointsDonated: 1,
  ReferralBonusCredited: 1,
  MemberEnrolled: 1,
  TierChanged: 1,
  ReferralQualified: 1,
};
