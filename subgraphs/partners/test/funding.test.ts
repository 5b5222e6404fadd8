import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { errorCodes, startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { partnersSubgraph } from '../src/server';

/**
 * The partners' side of funding limits, on its own against real PostgreSQL: each agreement version
 * announces its funding terms in its own transaction, and prepaid top-ups are recorded once per
 * invoice and announced (the ledger's side is test/partner-funding.test.ts).
 */
let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let admin: Caller;
let partnerId: string;

const PROGRAM = '00000000-0000-4000-8000-00000000000c';
const staffOf = (programId: string | null, role: 'ADMIN' | 'AGENT'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles: [role], subject: `${role.toLowerCase()}-${programId}` });
const eur = (amount: string) => ({ amount, currency: 'EUR' });
let n = 0;
const key = () => `funding-key-${++n}`;

const PUBLISH = `mutation($input: PublishPartnerAgreementInput!) { publishPartnerAgreement(input: $input) { agreement { id version } userErrors { code field } } }`;
const TOP_UP = `mutation($input: AddPartnerPrepaidPointsInput!) { addPartnerPrepaidPoints(input: $input) { prepaidBlock { id points reference addedAt } userErrors { code field } } }`;
const agreement = (over: Record<string, unknown>) => ({
  idempotencyKey: key(),
  partnerId,
  currency: 'EUR',
  issuePricePerPoint: eur('0.01'),
  redemptionPricePerPoint: eur('0.0075'),
  fees: { fixedPerPeriod: eur('0'), perTransaction: eur('0') },
  settlementPeriod: 'MONTHLY',
  ...over,
});

/** What partners told the world about this partner: its outbox, in order. */
const announced = async () =>
  ((await sub.db.query(`SELECT event_type AS type, payload FROM outbox WHERE aggregate_id = $1 ORDER BY aggregate_version`, [partnerId])) as { type: string; payload: Record<string, unknown> }[]).map((e) => ({
    type: e.type,
    ...e.payload,
  }));

beforeAll(async () => {
  sub = await startTestSubgraph(partnersSubgraph as unknown as SubgraphModule<ViewerContext>);
  sub.clock.set(new Date('2026-06-01T10:00:00Z'));
  admin = await sub.as(staffOf(PROGRAM, 'ADMIN'));
  const { createPartner } = await admin.data<{ createPartner: { partner: { id: string } } }>(
    `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } } }`,
    { input: { idempotencyKey: key(), programId: PROGRAM, name: 'Funded Fuel', category: 'FUEL' } },
  );
  partnerId = createPartner.partner.id;
});
afterAll(() => sub?.stop());

describe('funding terms', () => {
  it('every agreement version announces its terms; a refused one announces nothing; both at once is refused', async () => {
    const first = await admin.data<{ publishPartnerAgreement: { agreement: { id: string } } }>(PUBLISH, { input: agreement({ prepaidPoints: 1000 }) });
    const later = '2026-07-01T00:00:00.000Z';
    const second = await admin.data<{ publishPartnerAgreement: { agreement: { id: string } } }>(PUBLISH, { input: agreement({ creditLimitPoints: 500, effectiveFrom: later }) });
    const both = await admin.send(PUBLISH, { input: agreement({ prepaidPoints: 1, creditLimitPoints: 1, effectiveFrom: '2026-08-01T00:00:00Z' }) });
    expect(both.errors?.map((e) => [e.extensions?.['code'], e.extensions?.['field']])).toEqual([['BAD_USER_INPUT', 'creditLimitPoints']]);
    expect(await announced()).toEqual([
      { type: 'PartnerFundingTermsChanged', programId: PROGRAM, partnerId, agreementId: first.publishPartnerAgreement.agreement.id, version: 1, effectiveFrom: '2026-06-01T10:00:00.000Z', prepaidPoints: 1000, creditLimitPoints: null },
      { type: 'PartnerFundingTermsChanged', programId: PROGRAM, partnerId, agreementId: second.publishPartnerAgreement.agreement.id, version: 2, effectiveFrom: later, prepaidPoints: null, creditLimitPoints: 500 },
    ]);
  });
});

describe('prepaid top-ups', () => {
  it('are added once per key and once per reference, even racing, and announced once', async () => {
    const before = (await announced()).length;
    const input = { idempotencyKey: key(), partnerId, points: 250, reference: 'INV-7' };
    const answers = await Promise.all([
      admin.data<{ addPartnerPrepaidPoints: { prepaidBlock: { id: string } | null; userErrors: { code: string }[] } }>(TOP_UP, { input }),
      admin.data<{ addPartnerPrepaidPoints: { prepaidBlock: { id: string } | null; userErrors: { code: string }[] } }>(TOP_UP, { input }),
      ...Array.from({ length: 4 }, () => admin.data<{ addPartnerPrepaidPoints: { prepaidBlock: { id: string } | null; userErrors: { code: string }[] } }>(TOP_UP, { input: { ...input, idempotencyKey: key() } })),
    ]);
    const blocks = new Set(answers.flatMap((a) => (a.addPartnerPrepaidPoints.prepaidBlock ? [a.addPartnerPrepaidPoints.prepaidBlock.id] : [])));
    expect(blocks.size).toBe(1);
    for (const a of answers) if (!a.addPartnerPrepaidPoints.prepaidBlock) expect(a.addPartnerPrepaidPoints.userErrors.map((e) => e.code)).toEqual(['PREPAID_REFERENCE_USED']);
    const [row] = (await sub.db.query(`SELECT count(*)::int AS n, sum(points)::int AS points FROM partner_prepaid_blocks WHERE partner_id = $1`, [partnerId])) as { n: number; points: number }[];
    expect(row).toEqual({ n: 1, points: 250 });
    const events = (await announced()).slice(before);
    expect(events).toEqual([{ type: 'PartnerPrepaidPointsAdded', programId: PROGRAM, partnerId, points: 250, reference: 'INV-7', addedAt: '2026-06-01T10:00:00.000Z' }]);
  });

  it('checks its input, and is for the program’s admins only', async () => {
    expect(errorCodes(await admin.send(TOP_UP, { input: { idempotencyKey: key(), partnerId, points: 10, reference: '' } }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await admin.send(TOP_UP, { input: { idempotencyKey: key(), partnerId, points: 0, reference: 'INV-8' } }))).toEqual(['BAD_USER_INPUT']);
    const agent = await sub.as(staffOf(PROGRAM, 'AGENT'));
    expect(errorCodes(await agent.send(TOP_UP, { input: { idempotencyKey: key(), partnerId, points: 10, reference: 'INV-9' } }))).toEqual(['FORBIDDEN']);
    const otherAdmin = await sub.as(staffOf('00000000-0000-4000-8000-00000000000d', 'ADMIN'));
    expect(errorCodes(await otherAdmin.send(TOP_UP, { input: { idempotencyKey: key(), partnerId, points: 10, reference: 'INV-9' } }))).toEqual(['FORBIDDEN']);
  });
});
