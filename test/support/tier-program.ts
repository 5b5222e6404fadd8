import { expect } from 'vitest';
import type { Caller } from '@loyalty-graph/testing';
import { createTestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * A program with a Bronze (0) / Silver (100) / Gold (500) ladder, 1 point (and 1 status point) per
 * 1.00 spent, posted at once, set up through the gateway as an operator and its admin would.
 */
export interface TierProgram {
  id: string;
  admin: Caller;
  agent: Caller;
  tiers: Record<'Bronze' | 'Silver' | 'Gold', string>;
  enroll(email: string, referralCode?: string): Promise<string>;
  /** Records a purchase worth `amount` EUR (one line), at the clock's time unless `occurredAt` says otherwise; returns its id. */
  buy(memberId: string, amount: number, occurredAt?: string): Promise<string>;
  member(memberId: string): Promise<MemberTierView>;
  points(memberId: string): Promise<{ available: number; posted: number; statusPoints: number }>;
}

export interface MemberTierView {
  tier: { name: string } | null;
  referralCode: string;
  tierProgress: {
    tier: { name: string } | null;
    statusPoints: number;
    pointsToKeep: number;
    nextTier: { name: string } | null;
    pointsToNextTier: number | null;
    periodStart: string;
    periodEnd: string;
    downgradeDueAt: string | null;
  };
  manualTier: { tier: { name: string }; until: string | null } | null;
  tierHistory: { fromTier: { name: string } | null; toTier: { name: string } | null; source: string; reasonCode: string | null; reason: string }[];
}

const MEMBER = `query($id: ID!) { member(id: $id) {
  tier { name } referralCode
  tierProgress { tier { name } statusPoints pointsToKeep nextTier { name } pointsToNextTier periodStart periodEnd downgradeDueAt }
  manualTier { tier { name } until }
  tierHistory { fromTier { name } toTier { name } source reasonCode reason }
} }`;

let purchases = 0;

export async function tierProgram(graph: TestSupergraph, name: string, tierRules: Record<string, unknown>): Promise<TierProgram> {
  const { programId: id, admin, agent } = await createTestProgram(graph, { name });
  const tiers = {} as TierProgram['tiers'];
  for (const [rank, [tier, threshold]] of ([['Bronze', 0], ['Silver', 100], ['Gold', 500]] as const).entries()) {
    const { createTier } = await admin.data<{ createTier: { tier: { id: string } } }>(
      `mutation($p: ID!, $n: String!, $r: Int!, $t: Int!) { createTier(input: { programId: $p, name: $n, rank: $r, qualifyingThreshold: $t }) { tier { id } } }`,
      { p: id, n: tier, r: rank, t: threshold },
    );
    tiers[tier] = createTier.tier.id;
  }
  await admin.data(`mutation($p: ID!) { configureLedger(input: { programId: $p, returnWindowDays: 0 }) { settings { returnWindowDays } } }`, { p: id });
  const configured = await admin.data<{ configureTierRules: { userErrors: unknown[] } }>(
    `mutation($input: ConfigureTierRulesInput!) { configureTierRules(input: $input) { program { id } userErrors { code field message } } }`,
    { input: { programId: id, ...tierRules } },
  );
  expect(configured.configureTierRules.userErrors).toEqual([]);
  return {
    id,
    admin,
    agent,
    tiers,
    async enroll(email, referralCode) {
      const { enrollMember } = await agent.data<{ enrollMember: { member: { id: string } | null; userErrors: unknown[] } }>(
        `mutation($p: ID!, $e: String!, $r: String) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: $e }], referralCode: $r }) { member { id } userErrors { code field } } }`,
        { p: id, e: email, r: referralCode ?? null },
      );
      expect(enrollMember.userErrors).toEqual([]);
      return enrollMember.member!.id;
    },
    async buy(memberId, amount, occurredAt) {
      const n = ++purchases;
      const { recordPurchase } = await agent.data<{ recordPurchase: { purchase: { id: string }; userErrors: unknown[] } }>(
        `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id } userErrors { code message } } }`,
        {
          input: {
            idempotencyKey: `tier-buy-${n}-${Date.now()}`,
            memberId,
            source: 'shop',
            externalId: `T-${n}`,
            basket: { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 'SKU-1', category: 'food', quantity: 1, amount: amount.toFixed(2) }] },
            ...(occurredAt ? { occurredAt } : {}),
          },
        },
      );
      expect(recordPurchase.userErrors).toEqual([]);
      return recordPurchase.purchase.id;
    },
    async member(memberId) {
      return (await agent.data<{ member: MemberTierView }>(MEMBER, { id: memberId })).member;
    },
    async points(memberId) {
      const { member } = await agent.data<{ member: { points: { available: number; posted: number; statusPoints: number } } }>(
        `query($id: ID!) { member(id: $id) { points { available posted statusPoints } } }`,
        { id: memberId },
      );
      return member.points;
    },
  };
}
