import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { EventConsumer } from '@loyalty-graph/shared/events';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { errorCodes, MemoryFeed, startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { catalogSubgraph } from '../src/server';

/**
 * Catalogs targeted at analytics segments, in the catalog subgraph on its own against real
 * PostgreSQL: analytics' SegmentMembershipChanged arrives over the real feed protocol from memory,
 * and Member.catalogs must follow it. Members are written straight into the member-snapshot
 * projection, as members' events would.
 */

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let admin: Caller;
let agent: Caller;
let analyticsConsumer: EventConsumer;
const analytics = new MemoryFeed('analytics');
let stopFeed: () => Promise<void>;

const PROGRAM = '00000000-0000-4000-8000-0000000000f1';
const OTHER_PROGRAM = '00000000-0000-4000-8000-0000000000f2';
const GOLD = '00000000-0000-4000-8000-0000000000f3';
const staffOf = (programId: string, role: 'ADMIN' | 'AGENT'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles: [role], subject: `${role.toLowerCase()}-${programId}` });

const CREATE = `mutation($input: CreateCatalogInput!) { createCatalog(input: $input) { catalog { id segmentIds } userErrors { code field } } }`;
const UPDATE = `mutation($input: UpdateCatalogInput!) { updateCatalog(input: $input) { catalog { id name tierIds memberGroupIds segmentIds } userErrors { code field } } }`;
const CATALOGS = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Member { catalogs { catalog { id } } } } }`;

let n = 0;
async function catalog(name: string, audience: { tierIds?: string[]; segmentIds?: string[] } = {}): Promise<string> {
  const { createCatalog } = await admin.data<{ createCatalog: { catalog: { id: string; segmentIds: string[] } } }>(CREATE, {
    input: { idempotencyKey: `segment-catalog-${++n}`, programId: PROGRAM, name, ...audience },
  });
  expect(createCatalog.catalog.segmentIds).toEqual(audience.segmentIds ?? []);
  return createCatalog.catalog.id;
}

async function snapshot(tierId: string | null = null): Promise<string> {
  const id = randomUUID();
  await sub.db.query(`INSERT INTO member_snapshots (member_id, program_id, status, tier_id, subject, version, updated_at) VALUES ($1, $2, 'ACTIVE', $3, $4, 1, now())`, [id, PROGRAM, tierId, `idp|${id}`]);
  return id;
}

/** The catalogs (of `among`) a member sees now. */
async function seen(memberId: string, among: string[]): Promise<string[]> {
  const { _entities } = await agent.data<{ _entities: { catalogs: { catalog: { id: string } }[] }[] }>(CATALOGS, { representations: [{ __typename: 'Member', id: memberId, points: { available: 0 } }] });
  return _entities[0]!.catalogs.map((c) => c.catalog.id).filter((id) => among.includes(id)).sort();
}

const segment = (memberId: string, segmentId: string, member: boolean) =>
  analytics.add('SegmentMembershipChanged', memberId, { programId: PROGRAM, memberId, segmentId, member, at: new Date().toISOString() });

beforeAll(async () => {
  const internalSecret = randomBytes(32).toString('hex');
  const served = await analytics.serve(internalSecret);
  stopFeed = served.stop;
  sub = await startTestSubgraph(catalogSubgraph as unknown as SubgraphModule<ViewerContext>, { internalSecret, peers: { analytics: served.url } });
  admin = await sub.as(staffOf(PROGRAM, 'ADMIN'));
  agent = await sub.as(staffOf(PROGRAM, 'AGENT'));
  analyticsConsumer = sub.consumers.find((c) => c.producer === 'analytics')!;
});
afterAll(async () => {
  await sub?.stop();
  await stopFeed?.();
});

describe('catalogs for segments', () => {
  it('shows a segment’s catalog to members while they are in the segment, and to nobody else', async () => {
    const VIP = randomUUID();
    const everyone = await catalog('Everyone');
    const vip = await catalog('VIP', { segmentIds: [VIP] });
    const goldOrVip = await catalog('Gold or VIP', { tierIds: [GOLD], segmentIds: [VIP] });
    const all = [everyone, vip, goldOrVip];
    const [ann, bob, cat] = [await snapshot(), await snapshot(GOLD), await snapshot()];

    // Nobody told yet: in no segment.
    expect(await seen(ann, all)).toEqual([everyone]);
    expect(await seen(bob, all)).toEqual([everyone, goldOrVip].sort());

    segment(ann, VIP, true);
    segment(cat, randomUUID(), true);
    await analyticsConsumer.drain();
    expect(await seen(ann, all)).toEqual(all.slice().sort());
    expect(await seen(bob, all)).toEqual([everyone, goldOrVip].sort());
    expect(await seen(cat, all)).toEqual([everyone]);

    const left = segment(ann, VIP, false);
    await analyticsConsumer.drain();
    expect(await seen(ann, all)).toEqual([everyone]);

    // An older event delivered again after the newer one, and everything again: ann stays out.
    const entered = analytics.events.find((e) => e.aggregateId === ann && e.aggregateVersion === left.aggregateVersion - 1)!;
    analytics.events.push({ ...entered, position: analytics.events.length + 1 });
    await analyticsConsumer.rewind(0, { forget: true });
    await analyticsConsumer.drain();
    expect(await seen(ann, all)).toEqual([everyone]);
  });

  it('changes a catalog’s audience with updateCatalog: a list given replaces the old one, absent fields stay', async () => {
    const VIP = randomUUID();
    const id = await catalog('Soon for VIPs', { tierIds: [GOLD] });
    const ann = await snapshot();
    segment(ann, VIP, true);
    await analyticsConsumer.drain();
    expect(await seen(ann, [id])).toEqual([]);

    const { updateCatalog } = await admin.data<{ updateCatalog: { catalog: Record<string, unknown>; userErrors: unknown[] } }>(UPDATE, { input: { catalogId: id, segmentIds: [VIP] } });
    expect(updateCatalog).toEqual({ catalog: { id, name: 'Soon for VIPs', tierIds: [GOLD], memberGroupIds: [], segmentIds: [VIP] }, userErrors: [] });
    expect(await seen(ann, [id])).toEqual([id]);

    // Emptied: back to tiers only.
    await admin.data(UPDATE, { input: { catalogId: id, segmentIds: [] } });
    expect(await seen(ann, [id])).toEqual([]);
  });

  it('refuses more than 50 segments or malformed ids (BAD_USER_INPUT), another program’s admin and agents (FORBIDDEN), an unknown catalog', async () => {
    const id = await catalog('Guarded');
    const many = Array.from({ length: 51 }, () => randomUUID());
    const tooMany = await admin.send(CREATE, { input: { idempotencyKey: `segment-catalog-${++n}`, programId: PROGRAM, name: 'Too many', segmentIds: many } });
    expect(errorCodes(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(tooMany.errors![0]!.extensions!['field']).toBe('segmentIds');
    const malformed = await admin.send(UPDATE, { input: { catalogId: id, segmentIds: ['not-a-uuid'] } });
    expect(errorCodes(malformed)).toEqual(['BAD_USER_INPUT']);
    expect(malformed.errors![0]!.extensions!['field']).toBe('segmentIds.0');
    for (const viewer of [staffOf(OTHER_PROGRAM, 'ADMIN'), staffOf(PROGRAM, 'AGENT')]) {
      expect(errorCodes(await (await sub.as(viewer)).send(UPDATE, { input: { catalogId: id, segmentIds: [randomUUID()] } }))).toEqual(['FORBIDDEN']);
    }
    const unknown = await admin.data<{ updateCatalog: { userErrors: { code: string }[] } }>(UPDATE, { input: { catalogId: randomUUID(), name: 'x' } });
    expect(unknown.updateCatalog.userErrors.map((e) => e.code)).toEqual(['CATALOG_NOT_FOUND']);
    const [row] = (await sub.db.query(`SELECT segment_ids::text[] AS ids FROM catalogs WHERE id = $1`, [id])) as { ids: string[] }[];
    expect(row!.ids).toEqual([]);
  });
});
