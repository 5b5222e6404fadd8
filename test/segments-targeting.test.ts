import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '@loyalty-graph/testing';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { tierProgram, type TierProgram } from './support/tier-program';

/**
 * Real segments end to end: an analyst defines a segment, a purchase through the ledger puts the
 * member in it (analytics evaluates the member on the ledger's event and announces it), and
 * partners' offers and the catalog follow; new rules take the member out again. A profile segment
 * follows members' updateMemberProfile (MemberProfileChanged) once the member granted PROFILING.
 */
let graph: TestSupergraph;
let p: TierProgram;
let memberId: string;
let member: Caller;
let segmentId: string;
let offerId: string;
let catalogId: string;

const SEEN = `{ me { offers(first: 100) { nodes { id } } catalogs { catalog { id } } } }`;
type Seen = { me: { offers: { nodes: { id: string }[] }; catalogs: { catalog: { id: string } }[] | null } };

async function seen(): Promise<{ offer: boolean; catalog: boolean }> {
  const { me } = await member.data<Seen>(SEEN);
  return { offer: me.offers.nodes.some((o) => o.id === offerId), catalog: (me.catalogs ?? []).some((c) => c.catalog.id === catalogId) };
}
const segmentsOf = async (as: Caller) =>
  (await as.data<{ member: { segments: { name: string }[] } }>(`query($id: ID!) { member(id: $id) { segments { name } } }`, { id: memberId })).member.segments.map((s) => s.name);

beforeAll(async () => {
  graph = await startSupergraph();
  graph.clock.set(new Date('2026-05-01T10:00:00Z'));
  p = await tierProgram(graph, 'Real segments program', {});
  memberId = await p.enroll('spender@example.com');
  await graph.deliverEvents();
  member = await graph.asMember(p.id, memberId);
  const analyst = await graph.asStaff(p.id, ['ANALYST']);
  const { createSegment } = await analyst.data<{ createSegment: { segment: { id: string }; userErrors: unknown[] } }>(
    `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { segment { id } userErrors { code field } } }`,
    { input: { programId: p.id, idempotencyKey: 'segment-spenders-1', name: 'Spenders', visibleToMembers: true, rules: { spend: { min: '50' } } } },
  );
  expect(createSegment.userErrors).toEqual([]);
  segmentId = createSegment.segment.id;

  const { createOffer } = await p.admin.data<{ createOffer: { offer: { id: string }; userErrors: unknown[] } }>(
    `mutation($input: CreateOfferInput!) { createOffer(input: $input) { offer { id } userErrors { code field } } }`,
    { input: { idempotencyKey: 'spenders-offer-1', programId: p.id, kind: 'OFFER', title: 'For spenders', description: 'Only them', segmentIds: [segmentId], validFrom: '2026-05-01T00:00:00Z', validUntil: '2026-06-01T00:00:00Z' } },
  );
  expect(createOffer.userErrors).toEqual([]);
  offerId = createOffer.offer.id;
  await p.admin.data(`mutation($id: ID!) { publishOffer(input: { offerId: $id }) { userErrors { code } } }`, { id: offerId });
  const { createCatalog } = await p.admin.data<{ createCatalog: { catalog: { id: string }; userErrors: unknown[] } }>(
    `mutation($input: CreateCatalogInput!) { createCatalog(input: $input) { catalog { id } userErrors { code field } } }`,
    { input: { idempotencyKey: 'spenders-catalog-1', programId: p.id, name: 'For spenders', segmentIds: [segmentId] } },
  );
  expect(createCatalog.userErrors).toEqual([]);
  catalogId = createCatalog.catalog.id;
});
afterAll(() => graph?.stop());

describe('segments defined in analytics, targeted by partners and the catalog', () => {
  it('puts the member in when a purchase makes the rule true, and out when new rules make it false; offers and catalogs follow', async () => {
    expect(await seen()).toEqual({ offer: false, catalog: false });
    expect(await segmentsOf(p.agent)).toEqual([]);

    await p.buy(memberId, 80);
    await graph.deliverEvents();
    expect(await segmentsOf(p.agent)).toEqual(['Spenders']);
    expect(await seen()).toEqual({ offer: true, catalog: true });

    await p.admin.data(`mutation($input: UpdateSegmentInput!) { updateSegment(input: $input) { userErrors { code } } }`, { input: { segmentId, rules: { spend: { min: '100' } } } });
    await graph.deliverEvents();
    expect(await segmentsOf(p.agent)).toEqual([]);
    expect(await seen()).toEqual({ offer: false, catalog: false });
  });

  it('puts the member in a profile segment when updateMemberProfile gives its language, once they granted PROFILING', async () => {
    const analyst = await graph.asStaff(p.id, ['ANALYST']);
    const { createSegment } = await analyst.data<{ createSegment: { userErrors: unknown[] } }>(
      `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { segment { id } userErrors { code field } } }`,
      { input: { programId: p.id, idempotencyKey: 'segment-english-1', name: 'English, 1980s', visibleToMembers: false, rules: { preferredLanguages: ['en'], bornBetween: { from: '1980-01-01', to: '1989-12-31' } } } },
    );
    expect(createSegment.userErrors).toEqual([]);
    const UPDATE = `mutation($input: UpdateMemberProfileInput!) { updateMemberProfile(input: $input) { userErrors { code } } }`;
    await p.agent.data(UPDATE, { input: { memberId, profile: { birthDate: '1984-07-14', preferredLanguage: 'en-GB' } } });
    await graph.deliverEvents();
    // No PROFILING consent yet: the profile is known, but not used for targeting.
    expect(await segmentsOf(p.agent)).toEqual([]);

    await p.agent.data(`mutation($input: SetConsentsInput!) { setConsents(input: $input) { userErrors { code } } }`, {
      input: { memberId, consents: [{ channel: 'EMAIL', purpose: 'PROFILING', granted: true }], source: 'HOTLINE' },
    });
    await graph.deliverEvents();
    expect(await segmentsOf(p.agent)).toEqual(['English, 1980s']);

    await p.agent.data(UPDATE, { input: { memberId, profile: { preferredLanguage: 'pl' } } });
    await graph.deliverEvents();
    expect(await segmentsOf(p.agent)).toEqual([]);
  });
});
