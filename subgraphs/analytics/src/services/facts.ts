import { ledgerEvents, membersEvents } from '@loyalty-graph/shared/contracts';
import { consume, type Consumption, type EventEnvelope } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';

type PointKind = 'ACCRUED' | 'RETURNED' | 'BONUS' | 'REDEEMED' | 'REFUNDED' | 'EXPIRED' | 'REINSTATED' | 'ADJUSTED' | 'DONATED' | 'TRANSFERRED';

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
  /** When it happened: the payload's own instant where it carries one, else when the producer wrote the event. */
  occurredAt: string;
}

/**
 * Writes one fact row per event, keyed by the event id: the consumer already skips a redelivered
 * event, and ON CONFLICT makes a replay after a rewind (or two deliveries racing) a no-op too, so a
 * rebuild from position zero ends with exactly the same rows.
 */
export class Facts {
  consumptions(): Consumption[] {
    return [
      consume(
        membersEvents,
        {
          MemberEnrolled: (tx, e) =>
            this.member(tx, e, { programId: e.payload.programId, memberId: e.payload.memberId, kind: 'ENROLLED', channel: e.payload.channel, occurredAt: e.payload.enrolledAt }),
          MemberStatusChanged: (tx, e) =>
            this.member(tx, e, {
              programId: e.payload.programId,
              memberId: e.payload.memberId,
              kind: 'STATUS_CHANGED',
              fromStatus: e.payload.fromStatus,
              toStatus: e.payload.toStatus,
              occurredAt: e.payload.changedAt,
            }),
        },
        { does: 'records enrolments and status changes as member facts (one row per event), for the KPIs' },
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
              occurredAt: e.payload.occurredAt,
            }),
          PointsReturned: (tx, e) =>
            this.points(tx, e, {
              ...e.payload,
              kind: 'RETURNED',
              // The ledger's returnLines give issuance back what was taken from pending and posted, and what the program wrote off.
              issuancePoints: -(e.payload.fromPending + e.payload.fromPosted + e.payload.writtenOff),
              partnerId: e.payload.partnerId ?? null,
              occurredAt: e.occurredAt,
            }),
          // Referral bonuses are issued from the program's ISSUANCE account (bonusLines): the ledger's issued counts them.
          ReferralBonusCredited: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'BONUS', issuancePoints: e.payload.points, occurredAt: e.occurredAt }),
          PointsRedeemed: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'REDEEMED', occurredAt: e.occurredAt }),
          PointsRefunded: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'REFUNDED', occurredAt: e.occurredAt }),
          PointsExpired: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'EXPIRED', occurredAt: e.occurredAt }),
          PointsReinstated: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'REINSTATED', occurredAt: e.occurredAt }),
          PointsAdjusted: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'ADJUSTED', occurredAt: e.occurredAt }),
          PointsDonated: (tx, e) => this.points(tx, e, { ...e.payload, kind: 'DONATED', occurredAt: e.occurredAt }),
          // The sender's row (the aggregate is the sender); the receiver is the same movement seen from the other side.
          PointsTransferred: (tx, e) => this.points(tx, e, { programId: e.payload.programId, memberId: e.payload.fromMemberId, points: e.payload.points, kind: 'TRANSFERRED', occurredAt: e.occurredAt }),
        },
        { does: 'records every movement of points as a point fact (one row per event), for the KPIs and the reconciliation with the ledger' },
      ),
    ];
  }

  private async member(
    tx: EntityManager,
    event: EventEnvelope,
    fact: { programId: string; memberId: string; kind: 'ENROLLED' | 'STATUS_CHANGED'; channel?: string; fromStatus?: string; toStatus?: string; occurredAt: string },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO member_facts (event_id, program_id, member_id, kind, channel, from_status, to_status, occurred_at, day)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ($8::timestamptz AT TIME ZONE 'UTC')::date)
       ON CONFLICT (event_id) DO NOTHING`,
      [event.id, fact.programId, fact.memberId, fact.kind, fact.channel ?? null, fact.fromStatus ?? null, fact.toStatus ?? null, fact.occurredAt],
    );
  }

  private async points(tx: EntityManager, event: EventEnvelope, fact: PointFact): Promise<void> {
    await tx.query(
      `INSERT INTO point_facts (event_id, program_id, member_id, kind, points, issuance_points, purchase_id, partner_id, pending, occurred_at, day)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, ($10::timestamptz AT TIME ZONE 'UTC')::date)
       ON CONFLICT (event_id) DO NOTHING`,
      [event.id, fact.programId, fact.memberId, fact.kind, fact.points, fact.issuancePoints ?? 0, fact.purchaseId ?? null, fact.partnerId ?? null, fact.pending ?? null, fact.occurredAt],
    );
  }
}
