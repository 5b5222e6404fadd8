import { ledgerEvents, membersEvents } from '@loyalty-graph/shared/contracts';
import { consume, type Consumption, type EventEnvelope } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';
import { rollUpMemberFact, rollUpPointFact } from './kpi-rollups';
import { rollUpActivity } from './activity-rollups';
import { filteredRollups } from './filtered-rollups';

type PointKind = 'ACCRUED' | 'RETURNED' | 'BONUS' | 'REDEEMED' | 'REFUNDED' | 'EXPIRED' | 'REINSTATED' | 'ADJUSTED' | 'DONATED' | 'TRANSFERRED' | 'POSTED';

interface PointFact {
  programId: string;
  memberId: string;
  kind: PointKind;
  points: number;
  /** What the ledger's issuance accounts (ISSUANCE, PARTNER_FUNDING) gave (+) or got back (−). */
  issuancePoints?: number;
  purchaseId?: string | null;
  partnerId?: string | null;
  pending?: boolean | null;
  /** What it did to the member's balance (posted and pending together). */
  memberDelta?: number;
  /** What it did to the member's pending points (a pending accrual +, its posting or a return from pending −): liability splits posted and pending with it. */
  pendingDelta?: number;
  /** The basket's total, currency and channel (accruals carrying them). */
  amount?: string | null;
  currency?: string | null;
  channel?: string | null;
  /** When it happened: the payload's own instant where it carries one, else when the producer wrote the event. */
  occurredAt: string;
}

/**
 * Writes one fact row per event, keyed by the event id: the consumer already skips a redelivered
 * event, and ON CONFLICT makes a replay after a rewind (or two deliveries racing) a no-op too, so a
 * rebuild from position zero ends with exactly the same rows.
 */
export class Facts {
  /**
   * Called in the event's transaction after a member's state changed (segments re-evaluate that
   * member: services/segments.ts). Not called for a redelivered event, which changes no state.
   */
  constructor(private readonly stateChanged?: (tx: EntityManager, programId: string, memberId: string) => Promise<void>) {}

  consumptions(): Consumption[] {
    return [
      consume(
        membersEvents,
        {
          MemberEnrolled: (tx, e) =>
            this.member(tx, e, {
              programId: e.payload.programId,
              memberId: e.payload.memberId,
              kind: 'ENROLLED',
              channel: e.payload.channel,
              toTierId: e.payload.tierId ?? null,
              referralId: e.payload.referralId,
              partnerId: e.payload.partnerId ?? null,
              occurredAt: e.payload.enrolledAt,
            }),
          MemberStatusChanged: (tx, e) =>
            this.member(tx, e, {
              programId: e.payload.programId,
              memberId: e.payload.memberId,
              kind: 'STATUS_CHANGED',
              fromStatus: e.payload.fromStatus,
              toStatus: e.payload.toStatus,
              occurredAt: e.payload.changedAt,
            }),
          TierChanged: (tx, e) =>
            this.member(tx, e, {
              programId: e.payload.programId,
              memberId: e.payload.memberId,
              kind: 'TIER_CHANGED',
              fromTierId: e.payload.fromTierId,
              toTierId: e.payload.toTierId,
              occurredAt: e.payload.changedAt,
            }),
          MemberJoinedGroup: (tx, e) =>
            this.member(tx, e, { programId: e.payload.programId, memberId: e.payload.memberId, kind: 'GROUPS_CHANGED', detail: { groupIds: e.payload.groupIds }, occurredAt: e.payload.at }),
          MemberLeftGroup: (tx, e) =>
            this.member(tx, e, { programId: e.payload.programId, memberId: e.payload.memberId, kind: 'GROUPS_CHANGED', detail: { groupIds: e.payload.groupIds }, occurredAt: e.payload.at }),
          ConsentsChanged: (tx, e) =>
            this.member(tx, e, {
              programId: e.payload.programId,
              memberId: e.payload.memberId,
              kind: 'CONSENTS_CHANGED',
              detail: { consents: e.payload.consents.filter((c) => c.granted).map((c) => `${c.channel}:${c.purpose}`).sort() },
              occurredAt: e.payload.changedAt,
            }),
          // Birth date and language: what profile rules of segments read (for members who granted PROFILING).
          MemberProfileChanged: (tx, e) =>
            this.member(tx, e, {
              programId: e.payload.programId,
              memberId: e.payload.memberId,
              kind: 'PROFILE_CHANGED',
              detail: { birthDate: e.payload.birthDate, preferredLanguage: e.payload.preferredLanguage },
              occurredAt: e.payload.changedAt,
            }),
          ReferralQualified: (tx, e) =>
            this.member(tx, e, {
              programId: e.payload.programId,
              memberId: e.payload.refereeId,
              kind: 'REFERRAL_QUALIFIED',
              referralId: e.payload.referralId,
              referrerId: e.payload.referrerId,
              occurredAt: e.payload.qualifiedAt,
            }),
        },
        { does: "records enrolments, status, tier, group, consent and profile (birth date, language) changes and qualified referrals as member facts (one row per event), and keeps each member's state current, for the KPIs and segments" },
      ),
      consume(
        ledgerEvents,
        {
          PointsAccrued: (tx, e) =>
            this.points(tx, e, {
              ...e.payload,
              kind: 'ACCRUED',
              issuancePoints: e.payload.points,
              partnerId: e.payload.partnerId ?? null,
              pending: e.payload.pending,
              amount: e.payload.amount ?? null,
              currency: e.payload.currency ?? null,
              channel: e.payload.channel ?? null,
              memberDelta: e.payload.points,
              pendingDelta: e.payload.pending ? e.payload.points : 0,
              occurredAt: e.payload.occurredAt,
            }),
          PointsReturned: (tx, e) =>
            this.points(tx, e, {
              ...e.payload,
              kind: 'RETURNED',
              // The ledger's returnLines give issuance back what was taken from pending and posted, and what the program wrote off.
              issuancePoints: -(e.payload.fromPending + e.payload.fromPosted + e.payload.writtenOff),
              // What the member gave back; the written-off part was never taken from them.
              memberDelta: -(e.payload.fromPending + e.payload.fromPosted),
              pendingDelta: -e.payload.fromPending,
              partnerId: e.payload.partnerId ?? null,
              occurredAt: e.occurredAt,
            }),
          // Posting moves points from pending to posted: the balance is unchanged, the pending part shrinks (liability shows both).
          PointsPosted: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'POSTED', memberDelta: 0, pendingDelta: -e.payload.points, occurredAt: e.occurredAt }),
          // Referral bonuses are issued from the program's ISSUANCE account (bonusLines): the ledger's issued counts them.
          ReferralBonusCredited: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'BONUS', issuancePoints: e.payload.points, memberDelta: e.payload.points, occurredAt: e.occurredAt }),
          PointsRedeemed: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'REDEEMED', memberDelta: -e.payload.points, occurredAt: e.occurredAt }),
          PointsRefunded: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'REFUNDED', memberDelta: e.payload.points, occurredAt: e.occurredAt }),
          PointsExpired: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'EXPIRED', memberDelta: -e.payload.points, occurredAt: e.occurredAt }),
          PointsReinstated: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'REINSTATED', memberDelta: e.payload.points, occurredAt: e.occurredAt }),
          PointsAdjusted: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'ADJUSTED', memberDelta: e.payload.points, occurredAt: e.occurredAt }),
          PointsDonated: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'DONATED', memberDelta: -e.payload.points, occurredAt: e.occurredAt }),
          // Two rows: the sender's (−) and the receiver's (+), so each member's balance follows.
          PointsTransferred: async (tx, e) => {
            const { programId, fromMemberId, toMemberId, points } = e.payload;
            await this.points(tx, e, { programId, memberId: fromMemberId, points, kind: 'TRANSFERRED', memberDelta: -points, occurredAt: e.occurredAt });
            await this.points(tx, e, { programId, memberId: toMemberId, points, kind: 'TRANSFERRED', memberDelta: points, occurredAt: e.occurredAt });
          },
        },
        { does: 'records every movement of points as a point fact (one row per event), for the KPIs and the reconciliation with the ledger' },
      ),
    ];
  }

  private async member(tx: EntityManager, event: EventEnvelope, fact: MemberFact): Promise<void> {
    const inserted = (await tx.query(
      `INSERT INTO member_facts (event_id, program_id, member_id, kind, channel, from_status, to_status, from_tier_id, to_tier_id, referral_id, referrer_id, partner_id, detail, occurred_at, day)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, ($14::timestamptz AT TIME ZONE 'UTC')::date)
       ON CONFLICT (event_id) DO NOTHING RETURNING 1`,
      [
        event.id,
        fact.programId,
        fact.memberId,
        fact.kind,
        fact.channel ?? null,
        fact.fromStatus ?? null,
        fact.toStatus ?? null,
        fact.fromTierId ?? null,
        fact.toTierId ?? null,
        fact.referralId ?? null,
        fact.referrerId ?? null,
        fact.partnerId ?? null,
        fact.detail ? JSON.stringify(fact.detail) : null,
        fact.occurredAt,
      ],
    )) as unknown[];
    // The state moves only with a new fact: a redelivered event changes nothing.
    if (inserted.length === 0) return;
    await this.memberState(tx, fact);
    await rollUpMemberFact(tx, fact);
    // memberState locked the member's row (a qualification locks it here): a concurrent purchase
    // or tier change of the same member is seen by the rollups per dimension once it commits.
    if (fact.kind === 'REFERRAL_QUALIFIED') await this.lockMember(tx, fact.programId, fact.memberId);
    await filteredRollups.memberFact(tx, event.id, fact);
    // A closing ends the member's activity: the activity rollups drop their covered days from then.
    if (fact.kind === 'STATUS_CHANGED' && fact.toStatus === 'CLOSED') await rollUpActivity(tx, fact.programId, fact.memberId, event.id);
    if (fact.kind !== 'REFERRAL_QUALIFIED') await this.stateChanged?.(tx, fact.programId, fact.memberId);
  }

  /** Moves the member's state with a new member fact. */
  private async memberState(tx: EntityManager, fact: MemberFact): Promise<void> {
    const key = [fact.programId, fact.memberId];
    switch (fact.kind) {
      case 'ENROLLED':
        await tx.query(
          `INSERT INTO member_state (program_id, member_id, enrolled_at, enrolment_channel, enrolled_through_partner_id, referral_id, tier_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (program_id, member_id) DO UPDATE SET enrolled_at = $3, enrolment_channel = $4, enrolled_through_partner_id = $5, referral_id = $6,
             -- a TierChanged seen before the enrolment (replay order) wins over the entry tier
             tier_id = coalesce(member_state.tier_id, $7), updated_at = now()`,
          [...key, fact.occurredAt, fact.channel ?? null, fact.partnerId ?? null, fact.referralId ?? null, fact.toTierId ?? null],
        );
        return;
      case 'STATUS_CHANGED':
        return this.state(tx, key, 'status', fact.toStatus);
      case 'TIER_CHANGED':
        return this.state(tx, key, 'tier_id', fact.toTierId ?? null);
      case 'GROUPS_CHANGED':
        return this.state(tx, key, 'group_ids', fact.detail!.groupIds);
      case 'CONSENTS_CHANGED':
        return this.state(tx, key, 'consents', fact.detail!.consents);
      case 'PROFILE_CHANGED':
        // Both at once: the event carries both fields' current values.
        await tx.query(
          `INSERT INTO member_state (program_id, member_id, birth_date, preferred_language) VALUES ($1, $2, $3, $4)
           ON CONFLICT (program_id, member_id) DO UPDATE SET birth_date = $3, preferred_language = $4, updated_at = now()`,
          [...key, fact.detail!.birthDate ?? null, fact.detail!.preferredLanguage ?? null],
        );
        return;
      case 'REFERRAL_QUALIFIED':
        return;
    }
  }

  /** Sets one column of a member's state, creating the row when the member's enrolment was not seen yet. */
  private async state(tx: EntityManager, [programId, memberId]: string[], column: 'status' | 'tier_id' | 'group_ids' | 'consents', value: unknown): Promise<void> {
    await tx.query(
      `INSERT INTO member_state (program_id, member_id, ${column}) VALUES ($1, $2, $3)
       ON CONFLICT (program_id, member_id) DO UPDATE SET ${column} = $3, updated_at = now()`,
      [programId, memberId, value],
    );
  }

  private async points(tx: EntityManager, event: EventEnvelope, fact: PointFact): Promise<void> {
    const inserted = (await tx.query(
      `INSERT INTO point_facts (event_id, program_id, member_id, kind, points, issuance_points, member_delta, purchase_id, partner_id, pending, amount, currency, channel, occurred_at, day, pending_delta)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, ($14::timestamptz AT TIME ZONE 'UTC')::date, $15)
       ON CONFLICT (event_id, member_id) DO NOTHING RETURNING 1`,
      [
        event.id,
        fact.programId,
        fact.memberId,
        fact.kind,
        fact.points,
        fact.issuancePoints ?? 0,
        fact.memberDelta ?? 0,
        fact.purchaseId ?? null,
        fact.partnerId ?? null,
        fact.pending ?? null,
        fact.amount ?? null,
        fact.currency ?? null,
        fact.channel ?? null,
        fact.occurredAt,
        fact.pendingDelta ?? 0,
      ],
    )) as unknown[];
    if (inserted.length === 0) return;
    // Only a new fact moves the daily rollups (a transfer's two rows carry no issued/redeemed/expired).
    await rollUpPointFact(tx, fact);
    if (fact.kind === 'ACCRUED') await rollUpActivity(tx, fact.programId, fact.memberId, event.id);
    const purchase = fact.kind === 'ACCRUED';
    await tx.query(
      `INSERT INTO member_state (program_id, member_id, purchases, spend, first_purchase_at, last_purchase_at, points_balance, points_earned, points_redeemed)
       VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)
       ON CONFLICT (program_id, member_id) DO UPDATE SET
         purchases = member_state.purchases + $3,
         spend = member_state.spend + $4,
         first_purchase_at = CASE WHEN $5::timestamptz IS NULL THEN member_state.first_purchase_at ELSE least(member_state.first_purchase_at, $5) END,
         last_purchase_at = CASE WHEN $5::timestamptz IS NULL THEN member_state.last_purchase_at ELSE greatest(member_state.last_purchase_at, $5) END,
         points_balance = member_state.points_balance + $6,
         points_earned = member_state.points_earned + $7,
         points_redeemed = member_state.points_redeemed + $8,
         updated_at = now()`,
      [
        fact.programId,
        fact.memberId,
        purchase ? 1 : 0,
        purchase ? (fact.amount ?? '0') : '0',
        purchase ? fact.occurredAt : null,
        fact.memberDelta ?? 0,
        fact.kind === 'ACCRUED' || fact.kind === 'BONUS' ? fact.points : fact.kind === 'RETURNED' ? (fact.memberDelta ?? 0) : 0,
        fact.kind === 'REDEEMED' ? fact.points : fact.kind === 'REFUNDED' ? -fact.points : 0,
      ],
    );
    // After the member_state upsert, which locks the member's row: the tier history read to count
    // the fact per dimension is then the committed one (a TierChanged racing this purchase either
    // committed before, or waits and moves the fact itself).
    await filteredRollups.pointFact(tx, event.id, fact.memberId, fact);
    await this.stateChanged?.(tx, fact.programId, fact.memberId);
  }

  /** Locks the member's state row (creating it when their enrolment was not seen yet). */
  private async lockMember(tx: EntityManager, programId: string, memberId: string): Promise<void> {
    await tx.query(
      `INSERT INTO member_state (program_id, member_id) VALUES ($1, $2)
       ON CONFLICT (program_id, member_id) DO UPDATE SET updated_at = member_state.updated_at`,
      [programId, memberId],
    );
  }
}

interface MemberFact {
  programId: string;
  memberId: string;
  kind: 'ENROLLED' | 'STATUS_CHANGED' | 'TIER_CHANGED' | 'GROUPS_CHANGED' | 'CONSENTS_CHANGED' | 'PROFILE_CHANGED' | 'REFERRAL_QUALIFIED';
  channel?: string;
  fromStatus?: string;
  toStatus?: string;
  fromTierId?: string | null;
  toTierId?: string | null;
  referralId?: string | null;
  referrerId?: string | null;
  partnerId?: string | null;
  detail?: { groupIds?: string[]; consents?: string[]; birthDate?: string | null; preferredLanguage?: string | null };
  occurredAt: string;
}

/**
 * Every table the Facts consumer builds from members' and ledger's events: what a rebuild from
 * position zero empties first (then rewinds both consumers with forget). One list, so a new rollup
 * cannot be left holding the old history's sums.
 */
export const FACT_TABLES = [
  'point_facts',
  'member_facts',
  'member_state',
  'point_days',
  'purchase_days',
  'member_days',
  'activity_days',
  'activity_windows',
  'activity_retained',
  'activity_retained_windows',
  'point_days_by',
  'purchase_days_by',
  'member_days_by',
] as const;
