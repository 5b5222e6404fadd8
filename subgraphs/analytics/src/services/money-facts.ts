import { catalogEvents, partnersEvents } from '@loyalty-graph/shared/contracts';
import { consume, type Consumption, type EventEnvelope } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';

interface RewardFact {
  lineId: string;
  programId: string;
  memberId: string;
  orderId: string;
  rewardId: string;
  kind: 'REDEEMED' | 'CANCELLED' | 'RETURNED';
  rewardType?: string;
  quantity: number;
  points?: number | null;
  unitCost?: { amount: string; currency: string } | null;
  partnerId?: string | null;
  occurredAt: string;
}

/**
 * The catalog's redemptions and cancellations (reward_facts) and the partners' closed settlement
 * statements (partner_settlement_facts), for the program's costs. Keyed by the event (and line),
 * ON CONFLICT DO NOTHING: a redelivery, a rewind or a rebuild writes each row once.
 */
export class MoneyFacts {
  consumptions(): Consumption[] {
    return [
      consume(
        catalogEvents,
        {
          RewardRedeemed: (tx, e) =>
            this.reward(tx, e, {
              ...e.payload,
              kind: 'REDEEMED',
              unitCost: e.payload.unitCost ?? null,
              // The contract types it as any string (a PARTNER_SERVICE reward's partner, "once it exists"): only an id fits the uuid column.
              partnerId: e.payload.partnerId && /^[0-9a-f-]{36}$/i.test(e.payload.partnerId) ? e.payload.partnerId : null,
              occurredAt: e.payload.redeemedAt,
            }),
          RewardOrderCancelled: async (tx, e) => {
            for (const line of e.payload.lines) {
              await this.reward(tx, e, {
                ...e.payload,
                ...line,
                kind: e.payload.returned ? 'RETURNED' : 'CANCELLED',
                occurredAt: e.payload.at,
              });
            }
          },
        },
        { does: "records reward lines redeemed, cancelled and returned, with the reward's unit cost, for the program's fulfilment cost" },
      ),
      consume(
        partnersEvents,
        {
          SettlementStatementClosed: async (tx, e) => {
            const p = e.payload;
            await tx.query(
              `INSERT INTO partner_settlement_facts (event_id, statement_id, program_id, partner_id, period_start, period_end, currency, net_amount, closed_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
              [e.id, p.statementId, p.programId, p.partnerId, p.periodStart, p.periodEnd, p.currency, p.netAmount, p.closedAt],
            );
          },
        },
        { does: "records partners' closed settlement statements (net amount, currency), for the program's costs" },
      ),
    ];
  }

  private async reward(tx: EntityManager, event: EventEnvelope, fact: RewardFact): Promise<void> {
    await tx.query(
      `INSERT INTO reward_facts (event_id, line_id, program_id, member_id, order_id, reward_id, kind, reward_type, quantity, points, unit_cost, cost_currency, partner_id, occurred_at, day)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, ($14::timestamptz AT TIME ZONE 'UTC')::date)
       ON CONFLICT (event_id, line_id) DO NOTHING`,
      [
        event.id,
        fact.lineId,
        fact.programId,
        fact.memberId,
        fact.orderId,
        fact.rewardId,
        fact.kind,
        fact.rewardType ?? null,
        fact.quantity,
        fact.points ?? null,
        fact.unitCost?.amount ?? null,
        fact.unitCost?.currency ?? null,
        fact.partnerId ?? null,
        fact.occurredAt,
      ],
    );
  }
}
