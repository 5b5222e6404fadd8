import type { Clock } from '@loyalty-graph/shared';
import { catalogEvents, ledgerEvents, membersEvents, partnersEvents } from '@loyalty-graph/shared/contracts';
import { consume, type Consumption, type EventEnvelope } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';
import { messageBody, type WebhookEventType } from '../domain/webhooks';

/** One webhook message to make from an event, for every subscribed endpoint of `partnerId`. */
interface Outgoing {
  partnerId: string;
  programId: string;
  type: WebhookEventType;
  /** Messages with one key go out in order, one at a time per endpoint: the member's id; null for none. */
  orderingKey: string | null;
  occurredAt: string;
  data: Record<string, unknown>;
}

/**
 * Turns events into webhook messages, in the consumer's transaction: the consumer records the event
 * as processed in the same transaction, so each event makes its messages exactly once (and the
 * unique (endpoint, event) key would refuse a second anyway). Only enabled endpoints subscribed to
 * the type get one. Payloads are minimised: ids, points and times, no personal data.
 */
export class WebhookInbox {
  constructor(private readonly clock: Clock) {}

  async enqueue(tx: EntityManager, event: EventEnvelope, outgoing: Outgoing): Promise<number> {
    const now = this.clock.now();
    // The message id is messageId(endpoint, event) (domain/webhooks.ts), computed here in SQL.
    const rows = (await tx.query(
      `INSERT INTO webhook_messages (webhook_id, endpoint_id, event_id, event_type, ordering_key, body, status, next_attempt_at, created_at)
       SELECT 'msg_' || left(encode(sha256(convert_to(e.id::text || ':' || $3::text, 'UTF8')), 'hex'), 32), e.id, $3::uuid, $4, $5, $6, 'PENDING', $7, $7
       FROM webhook_endpoints e JOIN partners p ON p.id = e.partner_id
       WHERE e.partner_id = $1 AND p.program_id = $2 AND e.enabled AND $4 = ANY (e.event_types)
       ORDER BY e.id
       ON CONFLICT (endpoint_id, event_id) DO NOTHING
       RETURNING id`,
      [outgoing.partnerId, outgoing.programId, event.id, outgoing.type, outgoing.orderingKey, messageBody(outgoing.type, outgoing.occurredAt, outgoing.data), now],
    )) as unknown[];
    return rows.length;
  }

  /** Tier changes go to every subscribed partner of the program the member shares their data with. */
  async enqueueForConsentingPartners(tx: EntityManager, event: EventEnvelope, memberId: string, outgoing: Omit<Outgoing, 'partnerId'>): Promise<void> {
    const partners = (await tx.query(
      `SELECT DISTINCT e.partner_id AS id FROM webhook_endpoints e JOIN partners p ON p.id = e.partner_id WHERE p.program_id = $1 AND e.enabled AND $2 = ANY (e.event_types)`,
      [outgoing.programId, outgoing.type],
    )) as { id: string }[];
    if (partners.length === 0 || !(await memberSharesWithPartners(tx, memberId))) return;
    for (const partner of partners) await this.enqueue(tx, event, { ...outgoing, partnerId: partner.id });
  }

  /** The consumers: one per producer whose events become webhooks. */
  consumptions(): Consumption[] {
    const does = "a webhook message for each of the partner's enabled endpoints subscribed to it";
    return [
      consume(
        ledgerEvents,
        {
          PointsAccrued: async (tx, event) => {
            const p = event.payload;
            const partnerId = p.partnerId ?? partnerOfSource(p.source);
            if (!partnerId) return;
            await this.enqueue(tx, event, {
              partnerId,
              programId: p.programId,
              type: 'purchase.recorded',
              orderingKey: p.memberId,
              occurredAt: p.occurredAt,
              data: { purchaseId: p.purchaseId, transactionId: p.externalId ?? null, memberId: p.memberId, points: p.points, pending: p.pending, occurredAt: p.occurredAt },
            });
          },
        },
        { does: `a purchase recorded for a partner (its partnerId, or a partner:<id> source) becomes purchase.recorded: ${does}` },
      ),
      consume(
        catalogEvents,
        {
          RewardRedeemed: async (tx, event) => {
            const p = event.payload;
            if (!p.partnerId) return;
            await this.enqueue(tx, event, {
              partnerId: p.partnerId,
              programId: p.programId,
              type: 'points.redeemed',
              orderingKey: p.memberId,
              occurredAt: p.redeemedAt,
              data: { orderId: p.orderId, lineId: p.lineId, rewardId: p.rewardId, memberId: p.memberId, quantity: p.quantity, points: p.points, redeemedAt: p.redeemedAt },
            });
          },
        },
        { does: `a redemption of a partner's reward becomes points.redeemed: ${does}` },
      ),
      consume(
        membersEvents,
        {
          MemberEnrolled: async (tx, event) => {
            const p = event.payload;
            if (p.channel !== 'PARTNER' || !p.partnerId) return;
            await this.enqueue(tx, event, {
              partnerId: p.partnerId,
              programId: p.programId,
              type: 'member.enrolled',
              orderingKey: p.memberId,
              occurredAt: p.enrolledAt,
              data: { memberId: p.memberId, enrolledAt: p.enrolledAt },
            });
          },
          TierChanged: async (tx, event) => {
            const p = event.payload;
            await this.enqueueForConsentingPartners(tx, event, p.memberId, {
              programId: p.programId,
              type: 'member.tier_changed',
              orderingKey: p.memberId,
              occurredAt: p.changedAt,
              data: { memberId: p.memberId, fromTierId: p.fromTierId, toTierId: p.toTierId, direction: p.direction, changedAt: p.changedAt },
            });
          },
        },
        { does: `an enrolment through a partner becomes member.enrolled, a tier change of a member sharing data with partners member.tier_changed: ${does}` },
      ),
      consume(
        partnersEvents,
        {
          SettlementStatementClosed: async (tx, event) => {
            const p = event.payload;
            await this.enqueue(tx, event, {
              partnerId: p.partnerId,
              programId: p.programId,
              type: 'statement.closed',
              orderingKey: null,
              occurredAt: p.closedAt,
              data: { statementId: p.statementId, periodStart: p.periodStart, periodEnd: p.periodEnd, currency: p.currency, netAmount: p.netAmount, closedAt: p.closedAt },
            });
          },
        },
        { does: `a closed settlement statement becomes statement.closed: ${does}` },
      ),
    ];
  }
}

/** `partner:<id>` is a partner's own purchase source (ledger): older accruals name no funder. */
function partnerOfSource(source: string | undefined): string | null {
  const match = source?.match(/^partner:([0-9a-f-]{36})$/i);
  return match ? match[1]!.toLowerCase() : null;
}

/**
 * Whether a member consented to share their data with the program's partners (PARTNER_SHARING on
 * any channel), as this subgraph's member snapshot knows it. Members' events arrive in order per
 * member, and the kit applies the snapshot's handler before this consumer's in one transaction, so
 * the answer is the consent in force when the tier changed. Unknown members share nothing: sharing
 * without consent is the one thing not allowed.
 */
export async function memberSharesWithPartners(tx: EntityManager, memberId: string): Promise<boolean> {
  const [row] = (await tx.query(`SELECT shares_with_partners AS shares FROM member_snapshots WHERE member_id = $1`, [memberId])) as { shares: boolean }[];
  return row?.shares === true;
}
