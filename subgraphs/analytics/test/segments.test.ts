import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { errorCodes, startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { matches, rfmFromBreakpoints, type Breakpoint, type MemberFacts, type SegmentRules } from '../src/domain/segments';
import { analyticsSubgraph } from '../src/server';
import { analyticsFeeds, startAnalytics } from './support';

/**
 * Segments against real PostgreSQL, with members' and the ledger's events served from memory:
 * membership follows the events (and only changes are announced), creating or updating a segment
 * evaluates everyone, the time job moves members whose activity window passed, RFM scores share
 * ties, profiles are exact, and Member.segments shows each viewer what they may see.
 */
let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
// Catalog and partners are fed too (analytics consumes them for costs), empty here.
const feeds = analyticsFeeds();
const stops: (() => Promise<void>)[] = [];
const peers: Record<string, string> = {};

const NOW = new Date('2026-12-01T12:00:00Z');
const daysBefore = (days: number) => new Date(NOW.getTime() - days * 86_400_000).toISOString();
const GOLD = randomUUID();
const SILVER = randomUUID();
const VIP_GROUP = randomUUID();

const staff = (roles: ('ADMIN' | 'ANALYST' | 'AGENT')[], programId: string | null): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: `staff-${roles.join()}-${programId}` });
const memberViewer = (programId: string, memberId: string): Viewer => ({ ...ANONYMOUS, kind: 'MEMBER', programId, memberId, subject: `idp|${memberId}` });

function enrol(programId: string, memberId: string, over: { tierId?: string | null; at?: string; partnerId?: string | null } = {}) {
  feeds.members.add('MemberEnrolled', memberId, {
    programId,
    memberId,
    channel: over.partnerId ? 'PARTNER' : 'SELF',
    referralId: null,
    enrolledAt: over.at ?? daysBefore(200),
    tierId: over.tierId ?? null,
    subject: `idp|${memberId}`,
    partnerId: over.partnerId ?? null,
  });
}
function purchase(programId: string, memberId: string, amount: number, at: string) {
  feeds.ledger.add('PointsAccrued', memberId, {
    programId,
    memberId,
    purchaseId: randomUUID(),
    points: amount,
    statusPoints: amount,
    pending: false,
    occurredAt: at,
    partnerId: null,
    amount: `${amount}.00`,
    currency: 'EUR',
    channel: 'STORE',
    entryId: randomUUID(),
  });
}
function consents(programId: string, memberId: string, granted: string[]) {
  feeds.members.add('ConsentsChanged', memberId, {
    programId,
    memberId,
    consents: ['EMAIL', 'SMS', 'PUSH', 'POST'].map((channel) => ({ channel, purpose: 'MARKETING', granted: granted.includes(`${channel}:MARKETING`) })),
    changedAt: NOW.toISOString(),
  });
}
/** Consents as CHANNEL:PURPOSE granted (any purpose); every other decision on record is a refusal. */
function grants(programId: string, memberId: string, granted: string[]) {
  feeds.members.add('ConsentsChanged', memberId, {
    programId,
    memberId,
    consents: ['EMAIL', 'SMS', 'PUSH', 'POST'].flatMap((channel) => ['MARKETING', 'PROFILING'].map((purpose) => ({ channel, purpose, granted: granted.includes(`${channel}:${purpose}`) }))),
    changedAt: NOW.toISOString(),
  });
}
function profile(programId: string, memberId: string, birthDate: string | null, preferredLanguage: string | null) {
  feeds.members.add('MemberProfileChanged', memberId, { programId, memberId, birthDate, preferredLanguage, changedAt: NOW.toISOString() });
}
function tier(programId: string, memberId: string, fromTierId: string | null, toTierId: string) {
  feeds.members.add('TierChanged', memberId, { programId, memberId, fromTierId, toTierId, direction: 'UP', reason: 'QUALIFIED', changedAt: NOW.toISOString() });
}
function redeem(programId: string, memberId: string, points: number) {
  feeds.ledger.add('PointsRedeemed', memberId, { programId, memberId, holdId: randomUUID(), points, status: 'CAPTURED', entryId: randomUUID() });
}

const drain = async () => {
  for (const consumer of sub.consumers) await consumer.drain();
};

const SEGMENT_FIELDS = 'id programId name description visibleToMembers status evaluating';
const CREATE = `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { segment { ${SEGMENT_FIELDS} } userErrors { code field message } } }`;
const UPDATE = `mutation($input: UpdateSegmentInput!) { updateSegment(input: $input) { segment { ${SEGMENT_FIELDS} } userErrors { code field message } } }`;
const ARCHIVE = `mutation($input: ArchiveSegmentInput!) { archiveSegment(input: $input) { segment { ${SEGMENT_FIELDS} } userErrors { code field message } } }`;

async function createSegment(as: Caller, programId: string, rules: Record<string, unknown>, over: Record<string, unknown> = {}): Promise<string> {
  const { createSegment } = await as.data<{ createSegment: { segment: { id: string; evaluating: boolean } | null; userErrors: unknown[] } }>(CREATE, {
    input: { programId, idempotencyKey: `seg-${randomUUID()}`, name: 'A segment', visibleToMembers: false, rules, ...over },
  });
  expect(createSegment.userErrors).toEqual([]);
  // A small program is evaluated before the mutation answers.
  expect(createSegment.segment!.evaluating).toBe(false);
  return createSegment.segment!.id;
}

/** Who is in the segment now. */
const membersOf = async (segmentId: string) =>
  ((await sub.db.query(`SELECT member_id FROM segment_members WHERE segment_id = $1 ORDER BY member_id`, [segmentId])) as { member_id: string }[]).map((r) => r.member_id);
/** What analytics announced about the segment, in order: [memberId, entered]. */
const announced = async (segmentId: string) =>
  (
    (await sub.db.query(`SELECT payload FROM outbox WHERE event_type = 'SegmentMembershipChanged' AND payload->>'segmentId' = $1 ORDER BY id`, [segmentId])) as {
      payload: { memberId: string; member: boolean };
    }[]
  ).map((r) => [r.payload.memberId, r.payload.member]);
const sorted = (ids: string[]) => [...ids].sort();

beforeAll(async () => {
  const started = await startAnalytics(feeds, stops);
  sub = started.sub;
  Object.assign(peers, started.peers);
  sub.clock.set(NOW);
});
afterAll(async () => {
  await sub?.stop();
  for (const stop of stops) await stop();
});

describe('membership from events', () => {
  const P = randomUUID();
  const ann = randomUUID();
  const bob = randomUUID();

  it('puts a member in when an event makes the rules true, takes them out when one makes them false, and announces exactly those changes', async () => {
    const admin = await sub.as(staff(['ADMIN'], P));
    const goldEmail = await createSegment(admin, P, { tierIds: [GOLD], consents: ['EMAIL:MARKETING'] });
    const bigSpenders = await createSegment(admin, P, { spend: { min: '100' } });
    enrol(P, ann, { tierId: SILVER });
    enrol(P, bob, { tierId: GOLD });
    await drain();
    expect(await membersOf(goldEmail)).toEqual([]);

    tier(P, ann, SILVER, GOLD); // gold, but no consent yet: still out
    purchase(P, bob, 60, daysBefore(3)); // 60 spent: not big yet
    await drain();
    expect(await membersOf(goldEmail)).toEqual([]);
    expect(await membersOf(bigSpenders)).toEqual([]);

    consents(P, ann, ['EMAIL:MARKETING', 'SMS:MARKETING']);
    purchase(P, bob, 40, daysBefore(2)); // 100 in all: in
    await drain();
    expect(await membersOf(goldEmail)).toEqual([ann]);
    expect(await membersOf(bigSpenders)).toEqual([bob]);

    consents(P, ann, ['SMS:MARKETING']); // email withdrawn: out
    consents(P, ann, ['SMS:MARKETING', 'PUSH:MARKETING']); // still out: nothing to announce
    await drain();
    expect(await membersOf(goldEmail)).toEqual([]);
    expect(await announced(goldEmail)).toEqual([
      [ann, true],
      [ann, false],
    ]);
    expect(await announced(bigSpenders)).toEqual([[bob, true]]);
    const [since] = (await sub.db.query(`SELECT since FROM segment_members WHERE segment_id = $1`, [bigSpenders])) as { since: Date }[];
    expect(since!.since).toEqual(NOW);
  });

  it('changes nothing when the events are delivered again, even after forgetting what was processed', async () => {
    const before = (await sub.db.query(`SELECT count(*)::int AS n FROM outbox`)) as { n: number }[];
    const rows = await sub.db.query(`SELECT segment_id, member_id, since FROM segment_members ORDER BY 1, 2`);
    for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
    await drain();
    expect(await sub.db.query(`SELECT count(*)::int AS n FROM outbox`)).toEqual(before);
    expect(await sub.db.query(`SELECT segment_id, member_id, since FROM segment_members ORDER BY 1, 2`)).toEqual(rows);
  });
});

describe('profile rules (birth date, language) from MemberProfileChanged', () => {
  const P = randomUUID();
  const [ida, jon, kim] = [randomUUID(), randomUUID(), randomUUID()];
  const RULES = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Program { segments { id rules { bornBetween { from to } preferredLanguages } } } } }`;

  it('puts members in when their profile event arrives, takes them out when it changes or PROFILING is withdrawn, and announces exactly that', async () => {
    const admin = await sub.as(staff(['ADMIN'], P));
    const eighties = await createSegment(admin, P, { bornBetween: { from: '1980-01-01', to: '1989-12-31' } });
    const english = await createSegment(admin, P, { preferredLanguages: ['en-GB'] });
    [ida, jon, kim].forEach((m) => enrol(P, m));
    grants(P, ida, ['EMAIL:PROFILING']);
    grants(P, jon, ['EMAIL:MARKETING']); // no PROFILING: never in a profile segment
    grants(P, kim, ['PUSH:PROFILING']);
    await drain();
    expect(await membersOf(eighties)).toEqual([]);

    profile(P, ida, '1984-07-14', 'en-US');
    profile(P, jon, '1985-01-01', 'en');
    profile(P, kim, '1995-03-03', 'pl');
    await drain();
    expect(await membersOf(eighties)).toEqual([ida]);
    expect(await membersOf(english)).toEqual([ida]);

    profile(P, kim, '1989-12-31', 'EN'); // the last day of the range; the language in capitals
    grants(P, jon, ['EMAIL:MARKETING', 'SMS:PROFILING']); // jon grants it: in both
    await drain();
    expect(await membersOf(eighties)).toEqual(sorted([ida, jon, kim]));
    expect(await membersOf(english)).toEqual(sorted([ida, jon, kim]));

    grants(P, ida, ['EMAIL:MARKETING']); // PROFILING withdrawn: out of both, whatever her profile
    profile(P, kim, null, 'en'); // birth date removed: out of the eighties only
    await drain();
    expect(await membersOf(eighties)).toEqual([jon]);
    expect(await membersOf(english)).toEqual(sorted([jon, kim]));
    // Each entry and exit once (ida first: the only one in after the first profiles).
    const entries = (await announced(eighties)).map(([m, entered]) => `${m as string}:${String(entered)}`);
    expect(entries[0]).toBe(`${ida}:true`);
    expect(sorted(entries)).toEqual(sorted([`${ida}:true`, `${jon}:true`, `${kim}:true`, `${ida}:false`, `${kim}:false`]));

    // A fact per event, the state as the last event left it.
    const [facts] = (await sub.db.query(`SELECT count(*)::int AS n FROM member_facts WHERE program_id = $1 AND kind = 'PROFILE_CHANGED'`, [P])) as { n: number }[];
    expect(facts!.n).toBe(5);
    expect(await sub.db.query(`SELECT to_char(birth_date, 'YYYY-MM-DD') AS born, preferred_language AS lang FROM member_state WHERE member_id = $1`, [kim])).toEqual([{ born: null, lang: 'en' }]);
  });

  it('shows the rules as stored: dates as given, languages as their primary subtags', async () => {
    const analyst = await sub.as(staff(['ANALYST'], P));
    const { _entities } = await analyst.data<{ _entities: { segments: { rules: unknown }[] }[] }>(RULES, { reps: [{ __typename: 'Program', id: P }] });
    expect(_entities[0]!.segments.map((s) => s.rules)).toEqual(
      expect.arrayContaining([
        { bornBetween: { from: '1980-01-01', to: '1989-12-31' }, preferredLanguages: null },
        { bornBetween: null, preferredLanguages: ['en'] },
      ]),
    );
  });
});

describe('membership under concurrent delivery', () => {
  it('announces an entry once when two replicas deliver the same events at the same time', async () => {
    const P = randomUUID();
    const carl = randomUUID();
    const admin = await sub.as(staff(['ADMIN'], P));
    const segment = await createSegment(admin, P, { tierIds: [GOLD], consents: ['EMAIL:MARKETING'] });
    const replica = await startTestSubgraph(analyticsSubgraph as unknown as SubgraphModule<ViewerContext>, { internalSecret: sub.internalSecret, peers, database: sub.database, clock: sub.clock });
    try {
      enrol(P, carl, { tierId: GOLD });
      consents(P, carl, ['EMAIL:MARKETING']);
      for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
      await Promise.all([...sub.consumers.map((c) => c.drain()), ...replica.consumers.map((c) => c.drain())]);
    } finally {
      await replica.stop();
    }
    expect(await membersOf(segment)).toEqual([carl]);
    expect(await announced(segment)).toEqual([[carl, true]]);
  });
});

describe('creating and updating a segment', () => {
  const P = randomUUID();
  const people = Array.from({ length: 8 }, () => randomUUID());
  const PARTNER = randomUUID();

  beforeAll(async () => {
    // A varied population: tiers, statuses, spend, recency, consents, groups, enrolment dates and partners.
    people.forEach((m, i) => enrol(P, m, { tierId: i % 2 ? GOLD : SILVER, at: daysBefore(100 + i * 10), partnerId: i === 3 ? PARTNER : null }));
    [0, 1, 2, 3, 4, 5].forEach((i) => purchase(P, people[i]!, 20 * (i + 1), daysBefore(i * 15)));
    purchase(P, people[5]!, 300, daysBefore(1));
    consents(P, people[1]!, ['EMAIL:MARKETING']);
    consents(P, people[2]!, ['EMAIL:MARKETING', 'POST:MARKETING']);
    feeds.members.add('MemberJoinedGroup', people[6]!, { programId: P, memberId: people[6]!, groupId: VIP_GROUP, groupIds: [VIP_GROUP], at: NOW.toISOString() });
    feeds.members.add('MemberStatusChanged', people[4]!, { programId: P, memberId: people[4]!, fromStatus: 'ACTIVE', toStatus: 'SUSPENDED', reason: 'check', changedAt: NOW.toISOString() });
    redeem(P, people[2]!, 10);
    // Profiles: PROFILING granted by 0, 2, 5 and 7; birth dates and languages for most.
    [0, 2, 5, 7].forEach((i) => grants(P, people[i]!, ['EMAIL:MARKETING', 'SMS:PROFILING']));
    const births = ['1975-06-30', '1982-01-01', '1989-12-31', null, '1990-01-01', '1985-05-05', '2001-02-03', '1980-01-01'];
    const languages = ['en-GB', 'pl', 'EN', 'de', null, 'pl-PL', 'en', 'fr'];
    people.forEach((m, i) => profile(P, m, births[i]!, languages[i]!));
    await drain();
  });

  it('evaluates every member of the program at once and announces each entry', async () => {
    const analyst = await sub.as(staff(['ANALYST'], P));
    const segment = await createSegment(analyst, P, { statuses: ['ACTIVE'], spend: { min: '60' } });
    // spend: 20, 40, 60, 80, 100 (suspended), 420, 0, 0
    const expected = sorted([people[2]!, people[3]!, people[5]!]);
    expect(await membersOf(segment)).toEqual(expected);
    expect(sorted((await announced(segment)).map(([m, entered]) => (entered ? (m as string) : 'left')))).toEqual(expected);
  });

  it('re-evaluates everyone on new rules, announcing only who entered or left; the same rules again announce nothing', async () => {
    const admin = await sub.as(staff(['ADMIN'], P));
    const segment = await createSegment(admin, P, { spend: { min: '60' } });
    const first = (await announced(segment)).length;
    const { updateSegment } = await admin.data<{ updateSegment: { segment: { name: string; description: string | null; visibleToMembers: boolean } } }>(UPDATE, {
      input: { segmentId: segment, name: 'Gold spenders', description: 'Gold members who spent 60 or more', visibleToMembers: true, rules: { spend: { min: '60' }, tierIds: [GOLD] } },
    });
    expect(updateSegment.segment).toMatchObject({ name: 'Gold spenders', description: 'Gold members who spent 60 or more', visibleToMembers: true });
    // Gold: odd indexes (1, 3, 5, 7); spend ≥ 60: 2, 3, 4, 5 → 3 and 5 stay, 2 and 4 leave.
    expect(await membersOf(segment)).toEqual(sorted([people[3]!, people[5]!]));
    expect(sorted((await announced(segment)).slice(first).map(([m, entered]) => `${m as string}:${String(entered)}`))).toEqual(sorted([`${people[2]}:false`, `${people[4]}:false`]));
    const count = (await announced(segment)).length;
    const again = await admin.data<{ updateSegment: { segment: { name: string; description: string | null } } }>(UPDATE, { input: { segmentId: segment, description: '', rules: { tierIds: [GOLD], spend: { min: '60' } } } });
    expect((await announced(segment)).length).toBe(count);
    // An empty description clears it; absent fields are unchanged.
    expect(again.updateSegment.segment).toMatchObject({ name: 'Gold spenders', description: null });
  });

  it('puts in exactly the members the domain rules match, whichever rules (the SQL and the domain code agree)', async () => {
    const admin = await sub.as(staff(['ADMIN'], P));
    const ruleSets: Record<string, unknown>[] = [
      { purchasedWithinDays: 30 },
      { notPurchasedWithinDays: 30 },
      { consents: ['EMAIL:MARKETING'] },
      { groupIds: [VIP_GROUP, randomUUID()] },
      { pointsBalance: { min: '40', max: '100' } },
      { enrolledBetween: { from: daysBefore(150), to: daysBefore(110) } },
      { enrolledThroughPartnerId: PARTNER },
      { statuses: ['SUSPENDED', 'CLOSED'] },
      { rfm: { f: { min: 5 } } },
      { rfm: { r: { min: 4 }, m: { max: 3 } } },
      { tierIds: [SILVER], purchasedWithinDays: 40, notPurchasedWithinDays: 10 },
      { bornBetween: { from: '1980-01-01', to: '1989-12-31' } },
      { bornBetween: { to: '1985-05-05' } },
      { preferredLanguages: ['en-US'] },
      { preferredLanguages: ['PL', 'fr'], statuses: ['ACTIVE'] },
    ];
    for (const rules of ruleSets) {
      const segment = await createSegment(admin, P, rules);
      const [stored] = (await sub.db.query(`SELECT rules FROM segments WHERE id = $1`, [segment])) as { rules: SegmentRules }[];
      const breakpoints = (await sub.db.query(`SELECT dimension, score, bound::text AS bound FROM rfm_breakpoints WHERE program_id = $1`, [P])) as Breakpoint[];
      const states = (await sub.db.query(
        `SELECT member_id AS "memberId", tier_id AS "tierId", status, last_purchase_at AS "lastPurchaseAt", purchases, spend::text AS spend, points_balance::text AS "pointsBalance",
                consents, group_ids AS "groupIds", enrolled_at AS "enrolledAt", enrolled_through_partner_id AS "enrolledThroughPartnerId",
                to_char(birth_date, 'YYYY-MM-DD') AS "birthDate", preferred_language AS "preferredLanguage"
           FROM member_state WHERE program_id = $1`,
        [P],
      )) as (MemberFacts & { memberId: string })[];
      const expected = states.filter((s) => matches(stored!.rules, s, NOW, rfmFromBreakpoints(breakpoints, s, NOW))).map((s) => s.memberId);
      expect(await membersOf(segment), JSON.stringify(rules)).toEqual(sorted(expected));
      expect(expected.length, `${JSON.stringify(rules)} should select someone but not everyone`).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(people.length);
    }
  });

  it('is idempotent by key (the same segment back, nothing evaluated again); another input with the key is CONFLICT', async () => {
    const admin = await sub.as(staff(['ADMIN'], P));
    const input = { programId: P, idempotencyKey: 'segment-create-once', name: 'Once', visibleToMembers: true, rules: { statuses: ['ACTIVE'] } };
    const a = await admin.data<{ createSegment: { segment: { id: string } } }>(CREATE, { input });
    const outbox = (await sub.db.query(`SELECT count(*)::int AS n FROM outbox`)) as { n: number }[];
    const b = await admin.data<{ createSegment: { segment: { id: string } } }>(CREATE, { input });
    expect(b.createSegment.segment.id).toBe(a.createSegment.segment.id);
    expect(await sub.db.query(`SELECT count(*)::int AS n FROM outbox`)).toEqual(outbox);
    expect(errorCodes(await admin.send(CREATE, { input: { ...input, name: 'Twice' } }))).toEqual(['CONFLICT']);
  });

  it('archives (ADMIN only): everyone leaves, announced; archiving again changes nothing', async () => {
    const admin = await sub.as(staff(['ADMIN'], P));
    const segment = await createSegment(admin, P, { statuses: ['ACTIVE'] });
    const inside = await membersOf(segment);
    expect(errorCodes(await (await sub.as(staff(['ANALYST'], P))).send(ARCHIVE, { input: { segmentId: segment } }))).toEqual(['FORBIDDEN']);
    const { archiveSegment } = await admin.data<{ archiveSegment: { segment: { status: string } } }>(ARCHIVE, { input: { segmentId: segment } });
    expect(archiveSegment.segment.status).toBe('ARCHIVED');
    expect(await membersOf(segment)).toEqual([]);
    const events = await announced(segment);
    expect(sorted(events.filter(([, entered]) => !entered).map(([m]) => m as string))).toEqual(inside);
    await admin.data(ARCHIVE, { input: { segmentId: segment } });
    expect(await announced(segment)).toEqual(events);
    const { updateSegment } = await admin.data<{ updateSegment: { userErrors: { code: string }[] } }>(UPDATE, { input: { segmentId: segment, name: 'Back' } });
    expect(updateSegment.userErrors.map((e) => e.code)).toEqual(['SEGMENT_ARCHIVED']);
  });

  it('refuses agents, members and other programs’ staff (FORBIDDEN) and malformed rules (BAD_USER_INPUT naming the field)', async () => {
    const input = { programId: P, idempotencyKey: `seg-${randomUUID()}`, name: 'No', visibleToMembers: false, rules: { statuses: ['ACTIVE'] } };
    for (const viewer of [staff(['AGENT'], P), staff(['ADMIN'], randomUUID()), memberViewer(P, people[0]!)]) {
      expect(errorCodes(await (await sub.as(viewer)).send(CREATE, { input })), viewer.kind).toEqual(['FORBIDDEN']);
    }
    const admin = await sub.as(staff(['ADMIN'], P));
    for (const [rules, field] of [
      [{}, 'rules'],
      [{ purchasedWithinDays: 0 }, 'rules.purchasedWithinDays'],
      [{ consents: ['EMAIL-MARKETING'] }, 'rules.consents'],
      [{ rfm: { r: { min: 6 } } }, 'rules.rfm.r'],
      [{ bornBetween: { from: '1990-01-02', to: '1990-01-01' } }, 'rules.bornBetween.to'],
      [{ bornBetween: { from: '1990-13-01' } }, 'rules.bornBetween.from'],
      [{ preferredLanguages: [''] }, 'rules.preferredLanguages'],
      [{ preferredLanguages: ['x'.repeat(36)] }, 'rules.preferredLanguages'],
      [{ preferredLanguages: Array.from({ length: 51 }, (_, i) => `en-x${i}`) }, 'rules.preferredLanguages'],
    ] as const) {
      const res = await admin.send(CREATE, { input: { ...input, idempotencyKey: `seg-${randomUUID()}`, rules } });
      expect(errorCodes(res), JSON.stringify(rules)).toEqual(['BAD_USER_INPUT']);
      expect((res.errors![0]!.extensions as { field?: string }).field).toBe(field);
    }
    expect(errorCodes(await admin.send(UPDATE, { input: { segmentId: 'nope' } }))).toEqual(['BAD_USER_INPUT']);
    const missing = await admin.data<{ updateSegment: { userErrors: { code: string }[] } }>(UPDATE, { input: { segmentId: randomUUID(), name: 'x' } });
    expect(missing.updateSegment.userErrors.map((e) => e.code)).toEqual(['SEGMENT_NOT_FOUND']);
  });
});

describe('a program larger than one evaluation batch', () => {
  const P = randomUUID();

  it('evaluates every member across batches (5,000 each), announcing each entry once, and archives across batches too', async () => {
    // 12,001 members straight into member_state (as the facts would leave them): three batches.
    await sub.db.query(
      `INSERT INTO member_state (program_id, member_id, status, spend, purchases)
       SELECT $1, gen_random_uuid(), CASE WHEN i % 4 = 0 THEN 'SUSPENDED' ELSE 'ACTIVE' END, i % 100, 1 FROM generate_series(1, 12001) i`,
      [P],
    );
    const [expected] = (await sub.db.query(`SELECT count(*)::int AS n FROM member_state WHERE program_id = $1 AND status = 'ACTIVE' AND spend >= 10`, [P])) as { n: number }[];
    const admin = await sub.as(staff(['ADMIN'], P));
    const segment = await createSegment(admin, P, { statuses: ['ACTIVE'], spend: { min: '10' } });
    // More than one batch to leave when archived, fewer than everyone.
    expect(expected!.n).toBeGreaterThan(5000);
    expect(expected!.n).toBeLessThan(12001);
    expect((await membersOf(segment)).length).toBe(expected!.n);
    const entries = await announced(segment);
    expect(entries.length).toBe(expected!.n);
    expect(new Set(entries.map(([m]) => m)).size).toBe(expected!.n);
    await admin.data(ARCHIVE, { input: { segmentId: segment } });
    expect(await membersOf(segment)).toEqual([]);
    expect((await announced(segment)).filter(([, entered]) => !entered).length).toBe(expected!.n);
  });
});

describe('activity windows (the time job)', () => {
  const P = randomUUID();
  const cat = randomUUID();
  const dan = randomUUID();

  it('moves a member out of a purchasedWithinDays segment (and into notPurchasedWithinDays) once the window passed, without any event', async () => {
    enrol(P, cat);
    enrol(P, dan);
    purchase(P, cat, 10, daysBefore(25)); // falls out after 5 more days
    purchase(P, dan, 10, daysBefore(2));
    await drain();
    const admin = await sub.as(staff(['ADMIN'], P));
    const recent = await createSegment(admin, P, { purchasedWithinDays: 30 });
    const lapsed = await createSegment(admin, P, { notPurchasedWithinDays: 30 });
    expect(await membersOf(recent)).toEqual(sorted([cat, dan]));
    expect(await membersOf(lapsed)).toEqual([]);

    sub.clock.advance(4 * 86_400_000);
    await sub.runJobs();
    expect(await membersOf(recent)).toEqual(sorted([cat, dan]));

    sub.clock.advance(2 * 86_400_000); // cat's last purchase is now 31 days old
    const ran = await sub.runJobs();
    expect(ran['segment-windows']).toBe(2);
    expect(await membersOf(recent)).toEqual([dan]);
    expect(await membersOf(lapsed)).toEqual([cat]);
    expect((await announced(recent)).at(-1)).toEqual([cat, false]);
    expect((await announced(lapsed)).at(-1)).toEqual([cat, true]);
    // Nothing more to do until another boundary passes.
    expect((await sub.runJobs())['segment-windows']).toBe(0);
    sub.clock.set(NOW);
  });
});

describe('RFM', () => {
  const P = randomUUID();
  // Purchases per member: six with one, two with two, one with five, one with nine; and one who never purchased.
  const counts = [1, 1, 1, 1, 1, 1, 2, 2, 5, 9];
  const people = counts.map(() => randomUUID());
  const never = randomUUID();
  const RFM = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { rfm { recencyDays frequency monetary r f m } } } }`;

  beforeAll(async () => {
    people.forEach((m, i) => {
      enrol(P, m);
      // Recency: i days ago for the last purchase (0 … 9); spend: 10 per purchase, so M ties with F.
      for (let k = 0; k < counts[i]!; k++) purchase(P, m, 10, daysBefore(i + k * 0));
    });
    enrol(P, never);
    await drain();
  });

  it('scores by quintile with ties sharing a score: all one-purchase members share F 3; members without a purchase have no RFM', async () => {
    const agent = await sub.as(staff(['AGENT'], P));
    const { _entities } = await agent.data<{ _entities: { rfm: { recencyDays: number; frequency: number; monetary: string; r: number; f: number; m: number } | null }[] }>(RFM, {
      reps: [...people, never].map((id) => ({ __typename: 'Member', id })),
    });
    expect(_entities.map((e) => e.rfm?.f ?? null)).toEqual([3, 3, 3, 3, 3, 3, 4, 4, 5, 5, null]);
    expect(_entities.map((e) => e.rfm?.m ?? null)).toEqual([3, 3, 3, 3, 3, 3, 4, 4, 5, 5, null]);
    // Days 0 … 9, all distinct: the most recent two score 5, the oldest two 1.
    expect(_entities.map((e) => e.rfm?.r ?? null)).toEqual([5, 5, 4, 4, 3, 3, 2, 2, 1, 1, null]);
    expect(_entities[8]!.rfm).toEqual({ recencyDays: 8, frequency: 5, monetary: '50.0000', r: 1, f: 5, m: 5 });
  });

  it('puts RFM scores in segments, and refuses RFM to members and other programs’ staff', async () => {
    const admin = await sub.as(staff(['ADMIN'], P));
    const loyal = await createSegment(admin, P, { rfm: { f: { min: 4 }, r: { min: 2 } } });
    expect(await membersOf(loyal)).toEqual(sorted([people[6]!, people[7]!]));
    for (const viewer of [memberViewer(P, people[0]!), staff(['ADMIN'], randomUUID())]) {
      expect(errorCodes(await (await sub.as(viewer)).send(RFM, { reps: [{ __typename: 'Member', id: people[0] }] })), viewer.kind).toEqual(['FORBIDDEN']);
    }
  });
});

describe('Segment.profile and Member.segments', () => {
  const P = randomUUID();
  const [eva, fay, gus, hal] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const PROFILE = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Program { segments { id name visibleToMembers rules { spend { min max } statuses }
    profile { size tiers { tierId members } averageSpend medianSpend averagePurchases medianPurchases averagePointsBalance activeMembers activeShare redeemingMembers redemptionShare
      reachable { email sms push post } } } } } }`;
  const MEMBER_SEGMENTS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { segments { name visibleToMembers } } } }`;
  let visible: string;

  beforeAll(async () => {
    enrol(P, eva, { tierId: GOLD });
    enrol(P, fay, { tierId: GOLD });
    enrol(P, gus, { tierId: SILVER });
    enrol(P, hal, { tierId: SILVER });
    purchase(P, eva, 100, daysBefore(10));
    purchase(P, eva, 50, daysBefore(5)); // eva: 150 spent, 2 purchases, 150 points
    purchase(P, fay, 30, daysBefore(120)); // fay: 30, 1, inactive (120 days)
    purchase(P, gus, 45, daysBefore(90)); // gus: 45, 1, active exactly at 90 days
    redeem(P, eva, 40); // eva: 110 points, redeemed
    consents(P, eva, ['EMAIL:MARKETING', 'SMS:MARKETING']);
    consents(P, fay, ['EMAIL:MARKETING', 'PUSH:MARKETING']);
    consents(P, gus, ['POST:MARKETING']);
    await drain();
    const admin = await sub.as(staff(['ADMIN'], P));
    visible = await createSegment(admin, P, { spend: { min: '1' } }, { name: 'Buyers', visibleToMembers: true });
    await createSegment(admin, P, { tierIds: [GOLD] }, { name: 'Gold (internal)', visibleToMembers: false });
  });

  it('describes who is in a segment with exact figures', async () => {
    const analyst = await sub.as(staff(['ANALYST'], P));
    const { _entities } = await analyst.data<{ _entities: { segments: { id: string; profile: unknown; rules: unknown }[] }[] }>(PROFILE, { reps: [{ __typename: 'Program', id: P }] });
    const buyers = _entities[0]!.segments.find((s) => s.id === visible)!;
    expect(buyers.rules).toEqual({ spend: { min: '1', max: null }, statuses: null });
    // eva 150/2/110, fay 30/1/30, gus 45/1/45; hal never purchased (not in it).
    expect(buyers.profile).toEqual({
      size: 3,
      tiers: [
        { tierId: GOLD, members: 2 },
        { tierId: SILVER, members: 1 },
      ],
      averageSpend: '75.00',
      medianSpend: '45.00',
      averagePurchases: '1.33',
      medianPurchases: '1.00',
      averagePointsBalance: '61.67',
      activeMembers: 2,
      activeShare: '0.6667',
      redeemingMembers: 1,
      redemptionShare: '0.3333',
      reachable: { email: 2, sms: 1, push: 1, post: 1 },
    });
  });

  it('shows staff all of a member’s segments, the member only visible ones and only when the program allows, and refuses others', async () => {
    const reps = [{ __typename: 'Member', id: eva }];
    const segmentsAs = async (viewer: Viewer) => (await (await sub.as(viewer)).data<{ _entities: { segments: { name: string }[] }[] }>(MEMBER_SEGMENTS, { reps }))._entities[0]!.segments.map((s) => s.name);
    expect(await segmentsAs(staff(['AGENT'], P))).toEqual(['Buyers', 'Gold (internal)']);
    expect(await segmentsAs(memberViewer(P, eva))).toEqual([]);
    const admin = await sub.as(staff(['ADMIN'], P));
    const SET = `mutation($input: SetMembersSeeSegmentsInput!) { setMembersSeeSegments(input: $input) { programId membersSeeSegments } }`;
    expect(errorCodes(await (await sub.as(staff(['ANALYST'], P))).send(SET, { input: { programId: P, membersSeeSegments: true } }))).toEqual(['FORBIDDEN']);
    await admin.data(SET, { input: { programId: P, membersSeeSegments: true } });
    const SETTING = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Program { membersSeeSegments } } }`;
    expect((await (await sub.as(staff(['AGENT'], P))).data<{ _entities: { membersSeeSegments: boolean }[] }>(SETTING, { reps: [{ __typename: 'Program', id: P }] }))._entities[0]!.membersSeeSegments).toBe(true);
    expect(await segmentsAs(memberViewer(P, eva))).toEqual(['Buyers']);
    for (const viewer of [memberViewer(P, fay), staff(['ADMIN'], randomUUID()), staff(['AGENT'], randomUUID())]) {
      expect(errorCodes(await (await sub.as(viewer)).send(MEMBER_SEGMENTS, { reps })), viewer.kind).toEqual(['FORBIDDEN']);
    }
    // A member sees no rules or profile even of a visible segment.
    const peek = await (await sub.as(memberViewer(P, eva))).send(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { segments { name profile { size } } } } }`, { reps });
    expect(errorCodes(peek)).toEqual(['FORBIDDEN']);
  });

  it('lists the program’s segments for agents; archived ones only on request', async () => {
    const admin = await sub.as(staff(['ADMIN'], P));
    const gone = await createSegment(admin, P, { tierIds: [SILVER] }, { name: 'Gone' });
    await admin.data(ARCHIVE, { input: { segmentId: gone } });
    const LIST = `query($reps: [_Any!]!, $all: Boolean) { _entities(representations: $reps) { ... on Program { segments(includeArchived: $all) { name status } } } }`;
    const agent = await sub.as(staff(['AGENT'], P));
    const list = async (all: boolean) => (await agent.data<{ _entities: { segments: { name: string }[] }[] }>(LIST, { reps: [{ __typename: 'Program', id: P }], all }))._entities[0]!.segments.map((s) => s.name);
    expect(sorted(await list(false))).toEqual(['Buyers', 'Gold (internal)']);
    expect(sorted(await list(true))).toEqual(['Buyers', 'Gold (internal)', 'Gone']);
    expect(errorCodes(await (await sub.as(staff(['AGENT'], randomUUID()))).send(LIST, { reps: [{ __typename: 'Program', id: P }], all: false }))).toEqual(['FORBIDDEN']);
  });

  it('is computed at most once a minute under the same rules (membership stays current meanwhile); new rules compute it at once', async () => {
    const analyst = await sub.as(staff(['ANALYST'], P));
    const agent = await sub.as(staff(['AGENT'], P));
    const SIZE = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Program { segments { id profile { size averageSpend computedAt } } } } }`;
    const profile = async () =>
      (await analyst.data<{ _entities: { segments: { id: string; profile: { size: number; averageSpend: string; computedAt: string } }[] }[] }>(SIZE, { reps: [{ __typename: 'Program', id: P }] }))._entities[0]!.segments.find(
        (s) => s.id === visible,
      )!.profile;
    const halsSegments = async () =>
      (await agent.data<{ _entities: { segments: { name: string }[] }[] }>(MEMBER_SEGMENTS, { reps: [{ __typename: 'Member', id: hal }] }))._entities[0]!.segments.map((s) => s.name);
    try {
      sub.clock.advance(61_000);
      const computed = await profile();
      expect(computed).toEqual({ size: 3, averageSpend: '75.00', computedAt: sub.clock.now().toISOString() });
      // hal buys: he is in the segment at once, the profile computed 30 s ago is served as it was…
      purchase(P, hal, 25, daysBefore(1));
      await drain();
      expect(await halsSegments()).toContain('Buyers');
      sub.clock.advance(30_000);
      expect(await profile()).toEqual(computed);
      // …until it is a minute old.
      sub.clock.advance(31_000);
      expect(await profile()).toEqual({ size: 4, averageSpend: '62.50', computedAt: sub.clock.now().toISOString() });
      // New rules: the profile follows at once (eva alone spent 100 or more).
      sub.clock.advance(1_000);
      const admin = await sub.as(staff(['ADMIN'], P));
      await admin.data(UPDATE, { input: { segmentId: visible, rules: { spend: { min: '100' } } } });
      await sub.runJobs();
      expect(await profile()).toEqual({ size: 1, averageSpend: '150.00', computedAt: sub.clock.now().toISOString() });
    } finally {
      sub.clock.set(NOW);
    }
  });
});
