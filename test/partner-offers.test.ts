import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, errorCodes, type Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Offers, consents to partners and the partner member lookup through the gateway: a partner's key
 * writes and publishes offers; members see what is relevant to them now (windows, tier, partner
 * marketing consent, learnt from members' ConsentsChanged); a partner looks up only consenting
 * ACTIVE members of its program, minimised, and every refusal looks the same.
 */
let graph: TestSupergraph;
let p: TestProgram;
let other: TestProgram;
let partnerId: string;
let otherPartnerId: string;
let offersKey: Caller;
let otherPartnerKey: Caller;
let purchasesOnlyKey: Caller;
let gold: string;
const members: Record<'consenting' | 'silent' | 'golden' | 'closed' | 'abroad', { id: string; email: string; as: Caller }> = {} as never;

const NOW = new Date('2026-06-01T10:00:00Z');
const days = (n: number) => new Date(NOW.getTime() + n * 86_400_000).toISOString();

const CREATE = `mutation($input: CreateOfferInput!) { createOffer(input: $input) { offer { id status kind partner { id } } userErrors { code field message } } }`;
const PUBLISH = `mutation($id: ID!) { publishOffer(input: { offerId: $id }) { offer { id status publishedAt } userErrors { code field } } }`;
const WITHDRAW = `mutation($id: ID!) { withdrawOffer(input: { offerId: $id }) { offer { status } userErrors { code field } } }`;
const UPDATE = `mutation($input: UpdateOfferInput!) { updateOffer(input: $input) { offer { title } userErrors { code field } } }`;
const MY_OFFERS = `{ me { offers(first: 100) { nodes { id title kind partnerName availability validFrom } } } }`;
const LOOKUP = `query($type: IdentifierType!, $value: String!) { partnerMemberLookup(identifier: { type: $type, value: $value }) { memberId canEarn tierName } }`;

type Created = { createOffer: { offer: { id: string; status: string; kind: string; partner: { id: string } | null } | null; userErrors: { code: string; field: string }[] } };
type Shown = { id: string; title: string; kind: string; partnerName: string | null; availability: string; validFrom: string };

let n = 0;
const offerInput = (over: Record<string, unknown> = {}) => ({
  idempotencyKey: `e2e-offer-${++n}`,
  kind: 'OFFER',
  title: `Offer ${n}`,
  description: 'Double points on a car wash',
  validFrom: NOW.toISOString(),
  validUntil: days(30),
  ...over,
});

/** Creates and publishes an offer with a partner's key (or the given caller); returns its id. */
async function published(by: Caller, over: Record<string, unknown> = {}): Promise<string> {
  const { createOffer } = await by.data<Created>(CREATE, { input: offerInput(over) });
  expect(createOffer.userErrors).toEqual([]);
  const { publishOffer } = await by.data<{ publishOffer: { offer: { status: string }; userErrors: unknown[] } }>(PUBLISH, { id: createOffer.offer!.id });
  expect(publishOffer).toMatchObject({ offer: { status: 'PUBLISHED' }, userErrors: [] });
  return createOffer.offer!.id;
}

const shownTo = async (who: Caller) => (await who.data<{ me: { offers: { nodes: Shown[] } } }>(MY_OFFERS)).me.offers.nodes;
const shownIds = async (who: Caller) => (await shownTo(who)).map((o) => o.id);

async function key(program: TestProgram, partner: string, scopes: string[]): Promise<Caller> {
  const { createPartnerApiClient } = await program.admin.data<{ createPartnerApiClient: { key: string } }>(
    `mutation($input: CreatePartnerApiClientInput!) { createPartnerApiClient(input: $input) { key userErrors { code } } }`,
    { input: { idempotencyKey: `e2e-key-${++n}`, partnerId: partner, name: 'Integration', scopes } },
  );
  return caller(graph.gatewayUrl, { 'x-api-key': createPartnerApiClient.key });
}

async function partner(program: TestProgram, name: string): Promise<string> {
  const { createPartner } = await program.admin.data<{ createPartner: { partner: { id: string } } }>(
    `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code } } }`,
    { input: { idempotencyKey: `e2e-partner-${++n}`, programId: program.programId, name, category: 'FUEL' } },
  );
  return createPartner.partner.id;
}

async function enrol(program: TestProgram, email: string, consents: { channel: string; purpose: string; granted: boolean }[]) {
  const { enrollMember } = await program.agent.data<{ enrollMember: { member: { id: string }; userErrors: unknown[] } }>(
    `mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id } userErrors { code field } } }`,
    { input: { programId: program.programId, identifiers: [{ type: 'EMAIL', value: email }], consents } },
  );
  expect(enrollMember.userErrors).toEqual([]);
  return { id: enrollMember.member.id, email, as: await graph.asMember(program.programId, enrollMember.member.id) };
}

const TO_PARTNERS = [
  { channel: 'PUSH', purpose: 'PARTNER_MARKETING', granted: true },
  { channel: 'EMAIL', purpose: 'PARTNER_SHARING', granted: true },
];

beforeAll(async () => {
  graph = await startSupergraph();
  graph.clock.set(NOW);
  p = await createTestProgram(graph, { name: 'Offers program' });
  other = await createTestProgram(graph, { name: 'Other offers program' });
  const tier = async (name: string, rank: number, threshold: number) =>
    (
      await p.admin.data<{ createTier: { tier: { id: string } } }>(
        `mutation($p: ID!, $n: String!, $r: Int!, $t: Int!) { createTier(input: { programId: $p, name: $n, rank: $r, qualifyingThreshold: $t }) { tier { id } } }`,
        { p: p.programId, n: name, r: rank, t: threshold },
      )
    ).createTier.tier.id;
  await tier('Bronze', 0, 0);
  gold = await tier('Gold', 1, 500);

  partnerId = await partner(p, 'Nordic Fuel');
  otherPartnerId = await partner(p, 'Harbour Hotels');
  offersKey = await key(p, partnerId, ['OFFERS_WRITE', 'MEMBERS_LOOKUP']);
  otherPartnerKey = await key(p, otherPartnerId, ['OFFERS_WRITE']);
  purchasesOnlyKey = await key(p, partnerId, ['PURCHASES_WRITE']);

  members.consenting = await enrol(p, 'consenting@example.com', TO_PARTNERS);
  members.silent = await enrol(p, 'silent@example.com', []);
  members.golden = await enrol(p, 'golden@example.com', TO_PARTNERS);
  members.closed = await enrol(p, 'closed@example.com', TO_PARTNERS);
  members.abroad = await enrol(other, 'abroad@example.com', TO_PARTNERS);
  await p.agent.data(`mutation($m: ID!, $t: ID) { assignMemberTier(input: { memberId: $m, tierId: $t, reason: "VIP" }) { userErrors { code } } }`, { m: members.golden.id, t: gold });
  await p.agent.data(`mutation($m: ID!) { changeMemberStatus(input: { memberId: $m, status: CLOSED, reason: "Asked to leave" }) { userErrors { code } } }`, { m: members.closed.id });
  // The partners subgraph learns tiers, statuses and consents from members' events.
  await graph.deliverEvents();
});
afterAll(() => graph?.stop());

describe('offers a partner publishes, as members see them', () => {
  it('shows a published partner offer to a member who consented to partner marketing, not to one who did not; the program’s own offer to both', async () => {
    const { createOffer } = await offersKey.data<Created>(CREATE, { input: offerInput({ title: 'Car wash -50%' }) });
    // The key's partner, whatever the input says about programs or partners.
    expect(createOffer).toMatchObject({ offer: { status: 'DRAFT', kind: 'OFFER', partner: { id: partnerId } }, userErrors: [] });
    const draft = createOffer.offer!.id;
    expect(await shownIds(members.consenting.as)).not.toContain(draft);

    await offersKey.data(PUBLISH, { id: draft });
    const own = await published(p.admin, { programId: p.programId, title: 'Birthday bonus' });
    const shown = await shownTo(members.consenting.as);
    expect(shown.filter((o) => [draft, own].includes(o.id))).toEqual(
      expect.arrayContaining([
        { id: draft, title: 'Car wash -50%', kind: 'OFFER', partnerName: 'Nordic Fuel', availability: 'VALID_NOW', validFrom: NOW.toISOString() },
        { id: own, title: 'Birthday bonus', kind: 'OFFER', partnerName: null, availability: 'VALID_NOW', validFrom: NOW.toISOString() },
      ]),
    );
    const silent = await shownIds(members.silent.as);
    expect(silent).toContain(own);
    expect(silent).not.toContain(draft);
    // Agents see what a member is shown (helping them on the phone); a closed member is shown nothing.
    const { member } = await p.agent.data<{ member: { offers: { nodes: { id: string }[] } } }>(`query($id: ID!) { member(id: $id) { offers { nodes { id } } } }`, { id: members.consenting.id });
    expect(member.offers.nodes.map((o) => o.id)).toEqual(expect.arrayContaining([draft, own]));
    expect(await shownIds(members.closed.as)).toEqual([]);
  });

  it('targets tiers: an offer for Gold is shown to the Gold member only', async () => {
    const forGold = await published(offersKey, { tierIds: [gold] });
    expect(await shownIds(members.golden.as)).toContain(forGold);
    expect(await shownIds(members.consenting.as)).not.toContain(forGold);
  });

  it('shows a pre-sale before it is valid, as not yet valid, and as valid once it opens', async () => {
    const presale = await published(offersKey, { kind: 'PRESALE', visibleFrom: NOW.toISOString(), validFrom: days(3), validUntil: days(10) });
    expect((await shownTo(members.consenting.as)).find((o) => o.id === presale)).toMatchObject({ kind: 'PRESALE', availability: 'NOT_YET_VALID', validFrom: days(3) });
    graph.clock.set(new Date(days(3)));
    try {
      expect((await shownTo(members.consenting.as)).find((o) => o.id === presale)?.availability).toBe('VALID_NOW');
    } finally {
      graph.clock.set(NOW);
    }
  });

  it('hides offers that target segments from members analytics never placed in one', async () => {
    const targeted = await published(offersKey, { segmentIds: ['5f0c4b8e-6f0a-4d38-9a3e-2f1f1f1f1f1f'] });
    // Partners reads analytics' feed in the supergraph too; nothing there names this segment.
    await graph.deliverEvents();
    for (const who of [members.consenting, members.golden]) expect(await shownIds(who.as)).not.toContain(targeted);
  });

  it('stops showing a withdrawn offer at once', async () => {
    const offer = await published(offersKey);
    expect(await shownIds(members.consenting.as)).toContain(offer);
    const { withdrawOffer } = await offersKey.data<{ withdrawOffer: { offer: { status: string } } }>(WITHDRAW, { id: offer });
    expect(withdrawOffer.offer.status).toBe('WITHDRAWN');
    expect(await shownIds(members.consenting.as)).not.toContain(offer);
  });

  it('stops showing a partner’s offers once the member withdraws partner-marketing consent (ConsentsChanged)', async () => {
    const member = await enrol(p, 'changes-mind@example.com', TO_PARTNERS);
    await graph.deliverEvents();
    const offer = await published(offersKey);
    expect(await shownIds(member.as)).toContain(offer);
    const { setConsents } = await member.as.data<{ setConsents: { userErrors: unknown[] } }>(
      `mutation($m: ID!) { setConsents(input: { memberId: $m, source: MEMBER_PORTAL, consents: [{ channel: PUSH, purpose: PARTNER_MARKETING, granted: false }] }) { userErrors { code } } }`,
      { m: member.id },
    );
    expect(setConsents.userErrors).toEqual([]);
    await graph.deliverEvents();
    expect(await shownIds(member.as)).not.toContain(offer);
  });

  it('shows a member enrolled a moment ago (before their events arrive) the partner offers their consent allows, read through from members', async () => {
    const offer = await published(offersKey);
    const fresh = await enrol(p, 'just-now@example.com', TO_PARTNERS);
    const silentFresh = await enrol(p, 'just-now-silent@example.com', []);
    expect(await shownIds(fresh.as)).toContain(offer);
    expect(await shownIds(silentFresh.as)).not.toContain(offer);
    await graph.deliverEvents();
  });

  it('makes one offer of ten concurrent creations with one idempotency key', async () => {
    const input = offerInput({ title: 'Once only' });
    const answers = await Promise.all(Array.from({ length: 10 }, () => offersKey.data<Created>(CREATE, { input })));
    const ids = new Set(answers.map((a) => a.createOffer.offer?.id));
    expect(ids.size).toBe(1);
    const { partnerOffers } = await offersKey.data<{ partnerOffers: { nodes: { id: string; title: string }[] } }>(`{ partnerOffers(first: 100) { nodes { id title } } }`);
    expect(partnerOffers.nodes.filter((o) => o.title === 'Once only')).toEqual([{ id: [...ids][0], title: 'Once only' }]);
  });

  it('lets the program’s staff list offers; a partner lists only its own', async () => {
    const theirs = await published(otherPartnerKey, { title: 'Hotel night' });
    const { program } = await p.agent.data<{ program: { offers: { nodes: { id: string }[] } } }>(`query($id: ID!) { program(id: $id) { offers(first: 100) { nodes { id } } } }`, { id: p.programId });
    expect(program.offers.nodes.map((o) => o.id)).toContain(theirs);
    const { partnerOffers } = await offersKey.data<{ partnerOffers: { nodes: { id: string }[] } }>(`{ partnerOffers(first: 100) { nodes { id } } }`);
    expect(partnerOffers.nodes.map((o) => o.id)).not.toContain(theirs);
    expect((await offersKey.data<{ offer: unknown }>(`query($id: ID!) { offer(id: $id) { id } }`, { id: theirs })).offer).toBeNull();
  });
});

describe('offer refusals', () => {
  it('changes drafts only; a retried publish changes nothing', async () => {
    const { createOffer } = await offersKey.data<Created>(CREATE, { input: offerInput({ title: 'Draft title' }) });
    const draft = createOffer.offer!.id;
    const { updateOffer: edited } = await offersKey.data<{ updateOffer: { offer: { title: string }; userErrors: unknown[] } }>(UPDATE, { input: { offerId: draft, title: 'Better title' } });
    expect(edited).toEqual({ offer: { title: 'Better title' }, userErrors: [] });
    const first = await offersKey.data<{ publishOffer: { offer: { publishedAt: string } } }>(PUBLISH, { id: draft });
    const { updateOffer } = await offersKey.data<{ updateOffer: { userErrors: { code: string }[] } }>(UPDATE, { input: { offerId: draft, title: 'Changed' } });
    expect(updateOffer.userErrors.map((e) => e.code)).toEqual(['OFFER_NOT_DRAFT']);
    // A minute later, as a retry would come: the offer keeps its first publication.
    graph.clock.set(new Date(NOW.getTime() + 60_000));
    try {
      const again = await offersKey.data<{ publishOffer: { offer: { publishedAt: string }; userErrors: unknown[] } }>(PUBLISH, { id: draft });
      expect(again.publishOffer).toMatchObject({ offer: { publishedAt: first.publishOffer.offer.publishedAt }, userErrors: [] });
    } finally {
      graph.clock.set(NOW);
    }
  });

  it('refuses a pre-sale that is not visible before it is valid (BAD_USER_INPUT)', async () => {
    expect(errorCodes(await offersKey.send(CREATE, { input: offerInput({ kind: 'PRESALE' }) }))).toEqual(['BAD_USER_INPUT']);
  });

  it('keeps a partner to its own offers', async () => {
    expect(errorCodes(await offersKey.send(CREATE, { input: offerInput({ partnerId: otherPartnerId }) }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await offersKey.send(CREATE, { input: offerInput({ programId: other.programId }) }))).toEqual(['FORBIDDEN']);
    const theirs = await published(otherPartnerKey);
    const { withdrawOffer } = await offersKey.data<{ withdrawOffer: { offer: unknown; userErrors: { code: string }[] } }>(WITHDRAW, { id: theirs });
    expect(withdrawOffer).toEqual({ offer: null, userErrors: [expect.objectContaining({ code: 'OFFER_NOT_FOUND' })] });
  });

  it('refuses keys without offers:write, agents, members, other programs’ admins and anonymous callers', async () => {
    const input = offerInput({ partnerId });
    for (const who of [purchasesOnlyKey, p.agent, members.consenting.as, other.admin]) expect(errorCodes(await who.send(CREATE, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await graph.anonymous.send(CREATE, { input }))).toEqual(['UNAUTHENTICATED']);
  });

  it('shows a member’s offers to no other member, no other program’s staff and no partner', async () => {
    const OFFERS_OF = `query($id: ID!) { member(id: $id) { offers { nodes { id } } } }`;
    for (const who of [members.silent.as, other.agent, offersKey]) expect(errorCodes(await who.send(OFFERS_OF, { id: members.consenting.id }))).toEqual(['FORBIDDEN']);
  });
});

describe('a partner looking a member up (members:lookup)', () => {
  it('finds an ACTIVE member of its program who consented to sharing, minimised', async () => {
    const { partnerMemberLookup } = await offersKey.data<{ partnerMemberLookup: unknown }>(LOOKUP, { type: 'EMAIL', value: 'Consenting@Example.com' });
    expect(partnerMemberLookup).toEqual({ memberId: members.consenting.id, canEarn: true, tierName: 'Bronze' });
  });

  it('answers the same null for a member who did not consent, a closed one, another program’s and an unknown identifier', async () => {
    for (const value of ['silent@example.com', 'closed@example.com', 'abroad@example.com', 'nobody@example.com']) {
      expect((await offersKey.data<{ partnerMemberLookup: unknown }>(LOOKUP, { type: 'EMAIL', value })).partnerMemberLookup, value).toBeNull();
    }
  });

  it('refuses callers without a key, keys without members:lookup, and staff', async () => {
    const variables = { type: 'EMAIL', value: 'consenting@example.com' };
    expect(errorCodes(await graph.anonymous.send(LOOKUP, variables))).toEqual(['UNAUTHENTICATED']);
    for (const who of [purchasesOnlyKey, otherPartnerKey, p.admin, members.consenting.as]) expect(errorCodes(await who.send(LOOKUP, variables))).toEqual(['FORBIDDEN']);
  });

  it('gives a partner no ordinary Member fields: the view has none, and member(id) is refused', async () => {
    const asked = await offersKey.send(`query($v: String!) { partnerMemberLookup(identifier: { type: EMAIL, value: $v }) { memberId firstName } }`, { v: 'consenting@example.com' });
    expect(errorCodes(asked)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const member = await offersKey.send(`query($id: ID!) { member(id: $id) { firstName identifiers { value } consents { purpose } } }`, { id: members.consenting.id });
    expect(errorCodes(member)).toEqual(['FORBIDDEN']);
  });

  it('refuses a malformed identifier as BAD_USER_INPUT', async () => {
    expect(errorCodes(await offersKey.send(LOOKUP, { type: 'EMAIL', value: 'not an email' }))).toEqual(['BAD_USER_INPUT']);
  });
});
