import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { EventConsumer } from '@loyalty-graph/shared/events';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { MemoryFeed, startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import type { MemberSnapshot } from '@loyalty-graph/shared/member-snapshots';
import { partnersSubgraph } from '../src/server';
import { offersForMembers } from '../src/services/member-offers';

/**
 * Offers targeted by analytics, in the partners subgraph on its own against real PostgreSQL:
 * analytics' SegmentMembershipChanged and ExperimentVariantAssigned arrive over the real feed
 * protocol from memory, and Member.offers must follow them. Members are written straight into the
 * member-snapshot projection, as members' events would.
 */

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let admin: Caller;
let agent: Caller;
let analyticsConsumer: EventConsumer;
const analytics = new MemoryFeed('analytics');
let stopFeed: () => Promise<void>;

const PROGRAM = '00000000-0000-4000-8000-0000000000e1';
const T0 = new Date('2026-06-01T10:00:00Z');
const days = (n: number) => new Date(T0.getTime() + n * 86_400_000).toISOString();
const staff = (roles: ('ADMIN' | 'AGENT')[]): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId: PROGRAM, roles, subject: `staff-${roles.join()}` });

const CREATE = `mutation($input: CreateOfferInput!) { createOffer(input: $input) { offer { id } userErrors { code field } } }`;
const PUBLISH = `mutation($id: ID!) { publishOffer(input: { offerId: $id }) { offer { status } userErrors { code } } }`;
const OFFERS = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Member { id offers(first: 100) { nodes { id } } } } }`;

let n = 0;
/** A published offer of the program's own (no partner consent involved). */
async function published(over: Record<string, unknown> = {}): Promise<string> {
  const { createOffer } = await admin.data<{ createOffer: { offer: { id: string } } }>(CREATE, {
    input: { idempotencyKey: `targeting-${++n}`, programId: PROGRAM, kind: 'OFFER', title: `Offer ${n}`, description: 'Something nice', validFrom: T0.toISOString(), validUntil: days(30), ...over },
  });
  await admin.data(PUBLISH, { id: createOffer.offer.id });
  return createOffer.offer.id;
}

async function snapshot(): Promise<string> {
  const id = randomUUID();
  await sub.db.query(`INSERT INTO member_snapshots (member_id, program_id, status, tier_id, group_ids, partner_marketing, version, updated_at) VALUES ($1, $2, 'ACTIVE', NULL, '{}', true, 1, now())`, [id, PROGRAM]);
  return id;
}

/** Which of `among` each member is shown now. */
async function shown(members: string[], among: string[]): Promise<Map<string, string[]>> {
  const { _entities } = await agent.data<{ _entities: { id: string; offers: { nodes: { id: string }[] } }[] }>(OFFERS, { representations: members.map((id) => ({ __typename: 'Member', id })) });
  return new Map(_entities.map((m) => [m.id, m.offers.nodes.map((o) => o.id).filter((id) => among.includes(id)).sort()]));
}

const segment = (memberId: string, segmentId: string, member: boolean, at = T0.toISOString()) =>
  analytics.add('SegmentMembershipChanged', memberId, { programId: PROGRAM, memberId, segmentId, member, at });

function assign(memberId: string, experimentId: string, over: { variantKey?: string; holdout?: boolean; offerIds?: string[]; startsAt?: string; endsAt?: string | null } = {}) {
  return analytics.add('ExperimentVariantAssigned', memberId, {
    programId: PROGRAM,
    memberId,
    experimentId,
    variantKey: over.variantKey ?? 'treatment',
    holdout: over.holdout ?? false,
    earnMultiplier: null,
    offerIds: over.offerIds ?? [],
    startsAt: over.startsAt ?? T0.toISOString(),
    endsAt: over.endsAt === undefined ? null : over.endsAt,
  });
}

beforeAll(async () => {
  const internalSecret = randomBytes(32).toString('hex');
  const served = await analytics.serve(internalSecret);
  stopFeed = served.stop;
  sub = await startTestSubgraph(partnersSubgraph as unknown as SubgraphModule<ViewerContext>, { internalSecret, peers: { analytics: served.url } });
  sub.clock.set(T0);
  admin = await sub.as(staff(['ADMIN']));
  agent = await sub.as(staff(['AGENT']));
  // Only analytics' feed is served here: the other producers' consumers are not drained.
  analyticsConsumer = sub.consumers.find((c) => c.producer === 'analytics')!;
});
afterAll(async () => {
  await sub?.stop();
  await stopFeed?.();
});

describe('offers targeted at segments', () => {
  it('shows a segment offer to members as they enter the segment and hides it when they leave', async () => {
    const SEGMENT = randomUUID();
    const forSegment = await published({ segmentIds: [SEGMENT] });
    const forAll = await published();
    const [ann, bob, cat] = [await snapshot(), await snapshot(), await snapshot()];
    const offers = [forSegment, forAll];

    // Nobody told yet: nobody is in the segment.
    expect(await shown([ann, bob, cat], offers)).toEqual(new Map([[ann, [forAll]], [bob, [forAll]], [cat, [forAll]]]));

    segment(ann, SEGMENT, true);
    segment(bob, SEGMENT, true);
    segment(cat, randomUUID(), true); // another segment
    await analyticsConsumer.drain();
    expect(await shown([ann, bob, cat], offers)).toEqual(new Map([[ann, offers.slice().sort()], [bob, offers.slice().sort()], [cat, [forAll]]]));

    segment(bob, SEGMENT, false);
    await analyticsConsumer.drain();
    expect(await shown([ann, bob, cat], offers)).toEqual(new Map([[ann, offers.slice().sort()], [bob, [forAll]], [cat, [forAll]]]));

    // Still one statement for many members, segments and experiments included.
    sub.statements.reset();
    await shown([ann, bob, cat], offers);
    expect(sub.statements.dataStatements()).toHaveLength(1);
  });

  it('keeps the latest membership per member under redelivery, even when everything is delivered again', async () => {
    const SEGMENT = randomUUID();
    const forSegment = await published({ segmentIds: [SEGMENT] });
    const [dan, eve] = [await snapshot(), await snapshot()];
    const danEntered = segment(dan, SEGMENT, true);
    segment(eve, SEGMENT, true);
    segment(dan, SEGMENT, false, days(1));
    segment(eve, SEGMENT, false, days(1));
    segment(eve, SEGMENT, true, days(2));
    await analyticsConsumer.drain();
    const before = await shown([dan, eve], [forSegment]);
    expect(before).toEqual(new Map([[dan, []], [eve, [forSegment]]]));

    // The producer delivers dan's old "entered" event again, after the newer "left" one.
    analytics.events.push({ ...danEntered, position: analytics.events.length + 1 });
    await analyticsConsumer.drain();
    expect(await shown([dan, eve], [forSegment])).toEqual(before);

    // A rewind that forgets what was processed applies every event again, the stale copy last.
    await analyticsConsumer.rewind(0, { forget: true });
    await analyticsConsumer.drain();
    expect(await shown([dan, eve], [forSegment])).toEqual(before);
    const [{ count }] = (await sub.db.query(`SELECT count(*)::int AS count FROM segment_memberships WHERE segment_id = $1`, [SEGMENT])) as [{ count: number }];
    expect(count).toBe(2);
  });
});

describe('offers in experiments', () => {
  it('shows an offer an experiment names only to members whose assignment in force names it', async () => {
    const EXPERIMENT = randomUUID();
    const treatmentOffer = await published();
    const untouched = await published();
    const [treated, control, heldOut, stranger, ended] = [await snapshot(), await snapshot(), await snapshot(), await snapshot(), await snapshot()];
    const offers = [treatmentOffer, untouched].sort();

    // Before any assignment names it, the offer is an ordinary one: everyone sees it.
    expect((await shown([stranger], offers)).get(stranger)).toEqual(offers);

    assign(treated, EXPERIMENT, { offerIds: [treatmentOffer], endsAt: days(5) });
    assign(control, EXPERIMENT, { variantKey: 'control', offerIds: [] });
    assign(heldOut, EXPERIMENT, { variantKey: 'treatment', holdout: true, offerIds: [treatmentOffer] });
    assign(ended, EXPERIMENT, { offerIds: [treatmentOffer], startsAt: days(-10), endsAt: days(-1) });
    await analyticsConsumer.drain();

    expect(await shown([treated, control, heldOut, stranger, ended], offers)).toEqual(
      new Map([
        [treated, offers],
        [control, [untouched]],
        [heldOut, [untouched]],
        [stranger, [untouched]],
        [ended, [untouched]],
      ]),
    );

    // From the assignment's end on, the treated member does not see it either.
    sub.clock.set(new Date(days(5)));
    try {
      expect((await shown([treated], offers)).get(treated)).toEqual([untouched]);
    } finally {
      sub.clock.set(T0);
    }
  });

  it('follows a new assignment of the same member and experiment, and ignores an older one delivered again', async () => {
    const EXPERIMENT = randomUUID();
    const offer = await published();
    const member = await snapshot();
    const first = assign(member, EXPERIMENT, { offerIds: [offer] });
    await analyticsConsumer.drain();
    expect((await shown([member], [offer])).get(member)).toEqual([offer]);

    // The experiment stopped: the assignment now ends at once.
    assign(member, EXPERIMENT, { offerIds: [offer], endsAt: T0.toISOString() });
    await analyticsConsumer.drain();
    expect((await shown([member], [offer])).get(member)).toEqual([]);

    // The first assignment delivered again after the newer one, then everything again.
    analytics.events.push({ ...first, position: analytics.events.length + 1 });
    await analyticsConsumer.rewind(0, { forget: true });
    await analyticsConsumer.drain();
    expect((await shown([member], [offer])).get(member)).toEqual([]);
    const rows = (await sub.db.query(`SELECT ends_at FROM experiment_assignments WHERE member_id = $1`, [member])) as { ends_at: Date }[];
    expect(rows).toEqual([{ ends_at: T0 }]);
  });

  it('ignores an assignment of another program naming the offer', async () => {
    const offer = await published();
    const member = await snapshot();
    const outsider = randomUUID();
    analytics.add('ExperimentVariantAssigned', outsider, {
      programId: '00000000-0000-4000-8000-0000000000e2',
      memberId: outsider,
      experimentId: randomUUID(),
      variantKey: 'treatment',
      holdout: false,
      earnMultiplier: null,
      offerIds: [offer],
      startsAt: T0.toISOString(),
      endsAt: null,
    });
    await analyticsConsumer.drain();
    expect((await shown([member], [offer])).get(member)).toEqual([offer]);
  });
});

describe('members the snapshots do not hold yet (read through to members)', () => {
  it('applies segments and experiments to them as to the others', async () => {
    const SEGMENT = randomUUID();
    const forSegment = await published({ segmentIds: [SEGMENT] });
    const forExperiment = await published();
    const [inside, outside] = [randomUUID(), randomUUID()];
    segment(inside, SEGMENT, true);
    assign(inside, randomUUID(), { offerIds: [forExperiment] });
    await analyticsConsumer.drain();
    // Members' answer for members enrolled a moment ago (the kit's read-through, here given directly).
    const known = (id: string): MemberSnapshot => ({ id, programId: PROGRAM, status: 'ACTIVE', tierId: null, groupIds: [], sharesWithPartners: false, partnerMarketing: true });
    const [a, b] = await offersForMembers(sub.db, async (ids) => ids.map(known), [inside, outside], T0);
    const ids = (found: typeof a) => found!.offers.map((o) => o.offer.id).filter((id) => [forSegment, forExperiment].includes(id)).sort();
    expect(ids(a)).toEqual([forSegment, forExperiment].sort());
    expect(ids(b)).toEqual([]);
  });
});
