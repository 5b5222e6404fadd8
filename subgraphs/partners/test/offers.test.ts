import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { errorCodes, startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { partnersSubgraph } from '../src/server';

/**
 * Offers in the partners subgraph on its own, against real PostgreSQL: Member.offers for many
 * members in one SQL statement, concurrent writes of one offer, and the partner's own scope.
 * Members are written straight into the member-snapshot projection, as members' events would.
 */

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let admin: Caller;
let partnerKey: Caller;
let partnerId: string;

const PROGRAM = '00000000-0000-4000-8000-0000000000c1';
const GOLD = '00000000-0000-4000-8000-0000000000d1';
const BRONZE = '00000000-0000-4000-8000-0000000000d2';
const T0 = new Date('2026-06-01T10:00:00Z');
const days = (n: number) => new Date(T0.getTime() + n * 86_400_000).toISOString();
const staff = (roles: ('ADMIN' | 'AGENT')[]): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId: PROGRAM, roles, subject: `staff-${roles.join()}` });

const CREATE = `mutation($input: CreateOfferInput!) { createOffer(input: $input) { offer { id status } userErrors { code field } } }`;
const PUBLISH = `mutation($id: ID!) { publishOffer(input: { offerId: $id }) { offer { status } userErrors { code } } }`;
const WITHDRAW = `mutation($id: ID!) { withdrawOffer(input: { offerId: $id }) { offer { status } userErrors { code } } }`;
const OFFERS = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Member { id offers(first: 100) { nodes { id availability partnerName } } } } }`;

let n = 0;
async function published(by: Caller, over: Record<string, unknown> = {}): Promise<string> {
  const { createOffer } = await by.data<{ createOffer: { offer: { id: string } } }>(CREATE, {
    input: { idempotencyKey: `offer-test-${++n}`, kind: 'OFFER', title: `Offer ${n}`, description: 'Something nice', validFrom: T0.toISOString(), validUntil: days(30), ...over },
  });
  await by.data(PUBLISH, { id: createOffer.offer.id });
  return createOffer.offer.id;
}

async function snapshot(over: { tierId?: string | null; partnerMarketing?: boolean; status?: string } = {}): Promise<string> {
  const id = randomUUID();
  await sub.db.query(`INSERT INTO member_snapshots (member_id, program_id, status, tier_id, group_ids, partner_marketing, version, updated_at) VALUES ($1, $2, $3, $4, '{}', $5, 1, now())`, [
    id,
    PROGRAM,
    over.status ?? 'ACTIVE',
    over.tierId === undefined ? BRONZE : over.tierId,
    over.partnerMarketing ?? true,
  ]);
  return id;
}

beforeAll(async () => {
  sub = await startTestSubgraph(partnersSubgraph as unknown as SubgraphModule<ViewerContext>);
  sub.clock.set(T0);
  admin = await sub.as(staff(['ADMIN']));
  const { createPartner } = await admin.data<{ createPartner: { partner: { id: string } } }>(
    `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } } }`,
    { input: { idempotencyKey: 'offers-partner', programId: PROGRAM, name: 'Nordic Fuel', category: 'FUEL' } },
  );
  partnerId = createPartner.partner.id;
  partnerKey = await sub.as({ ...ANONYMOUS, kind: 'PARTNER', programId: PROGRAM, partnerId, scopes: ['offers:write'], subject: 'partner-client' });
});
afterAll(() => sub?.stop());

describe('Member.offers', () => {
  it('answers 30 members in one SQL statement, each shown what the rules give them', async () => {
    const forAll = await published(partnerKey);
    const forGold = await published(partnerKey, { tierIds: [GOLD] });
    const own = await published(admin, { programId: PROGRAM });
    const golden = await snapshot({ tierId: GOLD });
    const silent = await snapshot({ partnerMarketing: false });
    const suspended = await snapshot({ status: 'SUSPENDED' });
    const others = await Promise.all(Array.from({ length: 27 }, () => snapshot()));
    const ids = [golden, silent, suspended, ...others];

    sub.statements.reset();
    const agent = await sub.as(staff(['AGENT']));
    const { _entities } = await agent.data<{ _entities: { id: string; offers: { nodes: { id: string; availability: string; partnerName: string | null }[] } }[] }>(OFFERS, {
      representations: ids.map((id) => ({ __typename: 'Member', id })),
    });
    expect(sub.statements.dataStatements()).toHaveLength(1);

    const shown = new Map(_entities.map((m) => [m.id, m.offers.nodes.map((o) => o.id).filter((id) => [forAll, forGold, own].includes(id)).sort()]));
    expect(shown.get(golden)).toEqual([forAll, forGold, own].sort());
    expect(shown.get(silent)).toEqual([own]);
    expect(shown.get(suspended)).toEqual([]);
    for (const id of others) expect(shown.get(id)).toEqual([forAll, own].sort());
    expect(_entities[0]!.offers.nodes.find((o) => o.id === forAll)).toEqual({ id: forAll, availability: 'VALID_NOW', partnerName: 'Nordic Fuel' });
  });

  it('pages a member’s offers with cursors, usable ones first, and refuses a cursor it did not make', async () => {
    const member = await snapshot({ tierId: null });
    await published(partnerKey, { validUntil: days(3) });
    await published(partnerKey, { kind: 'PRESALE', visibleFrom: T0.toISOString(), validFrom: days(1), validUntil: days(2) });
    await published(admin, { programId: PROGRAM, validUntil: days(40) });
    const agent = await sub.as(staff(['AGENT']));
    const PAGE = `query($r: [_Any!]!, $after: String) { _entities(representations: $r) { ... on Member { offers(first: 2, after: $after) { nodes { id availability } pageInfo { hasNextPage endCursor } } } } }`;
    type Page = { _entities: { offers: { nodes: { id: string; availability: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }[] };
    const seen: { id: string; availability: string }[] = [];
    let after: string | null = null;
    for (let page = 0; page < 50; page++) {
      const { _entities }: Page = await agent.data<Page>(PAGE, { r: [{ __typename: 'Member', id: member }], after });
      seen.push(..._entities[0]!.offers.nodes);
      if (!_entities[0]!.offers.pageInfo.hasNextPage) break;
      after = _entities[0]!.offers.pageInfo.endCursor;
    }
    // Every offer this member is shown, once each, usable ones before pre-sales.
    expect(new Set(seen.map((o) => o.id)).size).toBe(seen.length);
    const { _entities: all } = await agent.data<{ _entities: { offers: { nodes: { id: string }[] } }[] }>(OFFERS, { representations: [{ __typename: 'Member', id: member }] });
    expect(seen.map((o) => o.id).sort()).toEqual(all[0]!.offers.nodes.map((o) => o.id).sort());
    expect(seen.length).toBeGreaterThan(2);
    const ranks = seen.map((o) => ['VALID_NOW', 'NOT_YET_VALID', 'ENDED'].indexOf(o.availability));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(errorCodes(await agent.send(PAGE, { r: [{ __typename: 'Member', id: member }], after: 'bm90LWEtY3Vyc29y' }))).toEqual(['BAD_USER_INPUT']);
  });

  it('shows a member nothing of another program and refuses another program’s staff', async () => {
    const member = await snapshot();
    const foreign = await sub.as({ ...staff(['AGENT']), programId: '00000000-0000-4000-8000-0000000000c2' });
    expect(errorCodes(await foreign.send(OFFERS, { representations: [{ __typename: 'Member', id: member }] }))).toEqual(['FORBIDDEN']);
  });
});

describe('writing offers', () => {
  it('applies a publish and a withdrawal sent at once one after the other: the offer ends WITHDRAWN', async () => {
    const { createOffer } = await partnerKey.data<{ createOffer: { offer: { id: string } } }>(CREATE, {
      input: { idempotencyKey: `offer-race-${++n}`, kind: 'OFFER', title: 'Race', description: 'Both at once', validFrom: T0.toISOString(), validUntil: days(5) },
    });
    const id = createOffer.offer.id;
    await Promise.all([partnerKey.data(PUBLISH, { id }), partnerKey.data(WITHDRAW, { id })]);
    const [row] = (await sub.db.query(`SELECT status, withdrawn_at IS NOT NULL AS withdrawn FROM offers WHERE id = $1`, [id])) as { status: string; withdrawn: boolean }[];
    expect(row).toEqual({ status: 'WITHDRAWN', withdrawn: true });
    // Withdrawn is for good: publishing it now is refused as a business rule, not changed.
    const again = await partnerKey.data<{ publishOffer: { userErrors: { code: string }[] } }>(PUBLISH, { id });
    expect(again.publishOffer.userErrors.map((e) => e.code)).toEqual(['OFFER_WITHDRAWN']);
    // A retried withdrawal answers like the first and keeps its time.
    const [{ at }] = (await sub.db.query(`SELECT withdrawn_at AS at FROM offers WHERE id = $1`, [id])) as [{ at: Date }];
    sub.clock.set(new Date(T0.getTime() + 60_000));
    try {
      const retried = await partnerKey.data<{ withdrawOffer: { offer: { status: string }; userErrors: unknown[] } }>(WITHDRAW, { id });
      expect(retried.withdrawOffer).toEqual({ offer: { status: 'WITHDRAWN' }, userErrors: [] });
    } finally {
      sub.clock.set(T0);
    }
    const [{ at: still }] = (await sub.db.query(`SELECT withdrawn_at AS at FROM offers WHERE id = $1`, [id])) as [{ at: Date }];
    expect(still).toEqual(at);
  });

  it('refuses the same idempotency key for a different offer (CONFLICT); the admin naming the same partner replays it', async () => {
    const input = { idempotencyKey: 'offer-conflict-1', kind: 'OFFER', title: 'First', description: 'x', validFrom: T0.toISOString(), validUntil: days(5) };
    await partnerKey.data(CREATE, { input });
    expect(errorCodes(await partnerKey.send(CREATE, { input: { ...input, title: 'Second' } }))).toEqual(['CONFLICT']);
    // The admin naming the partner is the same owner: the same request, the same offer.
    const { createOffer } = await admin.data<{ createOffer: { offer: { id: string } | null } }>(CREATE, { input: { ...input, partnerId } });
    const [row] = (await sub.db.query(`SELECT count(*)::int AS n FROM offers WHERE title = 'First'`)) as { n: number }[];
    expect({ offer: Boolean(createOffer.offer), n: row!.n }).toEqual({ offer: true, n: 1 });
  });

  it('refuses a publish after the validity ended (OFFER_ENDED) and an offer for an ENDED partner', async () => {
    const { createOffer } = await partnerKey.data<{ createOffer: { offer: { id: string } } }>(CREATE, {
      input: { idempotencyKey: `offer-late-${++n}`, kind: 'OFFER', title: 'Late', description: 'Too late', validFrom: T0.toISOString(), validUntil: days(1) },
    });
    sub.clock.set(new Date(days(2)));
    try {
      const late = await partnerKey.data<{ publishOffer: { userErrors: { code: string }[] } }>(PUBLISH, { id: createOffer.offer.id });
      expect(late.publishOffer.userErrors.map((e) => e.code)).toEqual(['OFFER_ENDED']);
    } finally {
      sub.clock.set(T0);
    }
    const { createPartner } = await admin.data<{ createPartner: { partner: { id: string } } }>(
      `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } } }`,
      { input: { idempotencyKey: 'offers-ended-partner', programId: PROGRAM, name: 'Gone Ltd', category: 'RETAIL' } },
    );
    await admin.data(`mutation($id: ID!) { updatePartner(input: { partnerId: $id, status: ENDED }) { partner { id } } }`, { id: createPartner.partner.id });
    const ended = await admin.data<{ createOffer: { userErrors: { code: string }[] } }>(CREATE, {
      input: { idempotencyKey: `offer-ended-${++n}`, partnerId: createPartner.partner.id, kind: 'OFFER', title: 'x', description: 'x', validFrom: T0.toISOString(), validUntil: days(3) },
    });
    expect(ended.createOffer.userErrors.map((e) => e.code)).toEqual(['PARTNER_ENDED']);
  });

  it('requires programId for the program’s own offer', async () => {
    const missing = await admin.send(CREATE, { input: { idempotencyKey: `offer-own-${++n}`, kind: 'OFFER', title: 'x', description: 'x', validFrom: T0.toISOString(), validUntil: days(3) } });
    expect(errorCodes(missing)).toEqual(['BAD_USER_INPUT']);
  });
});
