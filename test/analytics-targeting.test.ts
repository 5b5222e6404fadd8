import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyticsEvents } from '@loyalty-graph/shared/contracts';
import { emit } from '@loyalty-graph/shared/events';
import type { Caller } from '@loyalty-graph/testing';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { tierProgram, type TierProgram } from './support/tier-program';

/**
 * Analytics' segment membership reaching partners and the catalog through the whole supergraph:
 * an event written to analytics' own outbox (as its segment evaluation will) is read by partners'
 * and catalog's consumers from analytics' feed, found by the subgraph's name, and a member's
 * offers and catalogs follow it.
 */
let graph: TestSupergraph;
let p: TierProgram;
let memberId: string;
let member: Caller;
const SEGMENT = randomUUID();
let offerId: string;
let catalogId: string;

const SEEN = `{ me { offers(first: 100) { nodes { id } } catalogs { catalog { id } } } }`;
type Seen = { me: { offers: { nodes: { id: string }[] }; catalogs: { catalog: { id: string } }[] | null } };

async function seen(): Promise<{ offer: boolean; catalog: boolean }> {
  const { me } = await member.data<Seen>(SEEN);
  return { offer: me.offers.nodes.some((o) => o.id === offerId), catalog: (me.catalogs ?? []).some((c) => c.catalog.id === catalogId) };
}

/** What analytics emits when the member enters or leaves the segment, in its own outbox. */
async function membership(inSegment: boolean): Promise<void> {
  const analytics = graph.subgraphs['analytics']!;
  await analytics.db.transaction((tx) =>
    emit(tx, analyticsEvents, [{ type: 'SegmentMembershipChanged', payload: { programId: p.id, memberId, segmentId: SEGMENT, member: inSegment, at: graph.clock.now().toISOString() } }], graph.clock.now()),
  );
  await graph.deliverEvents();
}

beforeAll(async () => {
  graph = await startSupergraph();
  graph.clock.set(new Date('2026-05-01T10:00:00Z'));
  p = await tierProgram(graph, 'Segments program', {});
  memberId = await p.enroll('segment@example.com');
  await graph.deliverEvents();
  member = await graph.asMember(p.id, memberId);

  const { createOffer } = await p.admin.data<{ createOffer: { offer: { id: string }; userErrors: unknown[] } }>(
    `mutation($input: CreateOfferInput!) { createOffer(input: $input) { offer { id } userErrors { code field } } }`,
    { input: { idempotencyKey: 'segment-offer-1', programId: p.id, kind: 'OFFER', title: 'For the segment', description: 'Only them', segmentIds: [SEGMENT], validFrom: '2026-05-01T00:00:00Z', validUntil: '2026-06-01T00:00:00Z' } },
  );
  expect(createOffer.userErrors).toEqual([]);
  offerId = createOffer.offer.id;
  await p.admin.data(`mutation($id: ID!) { publishOffer(input: { offerId: $id }) { userErrors { code } } }`, { id: offerId });
  const { createCatalog } = await p.admin.data<{ createCatalog: { catalog: { id: string }; userErrors: unknown[] } }>(
    `mutation($input: CreateCatalogInput!) { createCatalog(input: $input) { catalog { id } userErrors { code field } } }`,
    { input: { idempotencyKey: 'segment-catalog-1', programId: p.id, name: 'For the segment', segmentIds: [SEGMENT] } },
  );
  expect(createCatalog.userErrors).toEqual([]);
  catalogId = createCatalog.catalog.id;
});
afterAll(() => graph?.stop());

describe("analytics' segments in partners and the catalog", () => {
  it('shows the segment’s offer and catalog while analytics says the member is in it', async () => {
    expect(await seen()).toEqual({ offer: false, catalog: false });
    await membership(true);
    expect(await seen()).toEqual({ offer: true, catalog: true });
    await membership(false);
    expect(await seen()).toEqual({ offer: false, catalog: false });
  });
});
