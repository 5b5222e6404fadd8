import type { Clock } from '@loyalty-graph/shared';
import { membersEvents } from '@loyalty-graph/shared/contracts';
import { emit } from '@loyalty-graph/shared/events';
import type { DataSource } from 'typeorm';
import { ProgramEntity } from './entities/program';

/** Demo data for `pnpm dev` and the benchmarks: two programs, a tier ladder each, members. */
export interface DemoProgram {
  id: string;
  name: string;
  /** Member emails follow member<N>@<domain>, N from 1. */
  emailDomain: string;
  members: number;
}

const DEMO = [
  { name: 'Nordic Fuel Club', type: 'RECOGNITION', currency: 'points', value: '0.01', domain: 'fuel.example', cardPrefix: 'NFC' },
  { name: 'City Coalition Miles', type: 'COALITION', currency: 'miles', value: '0.008', domain: 'city.example', cardPrefix: 'CCM' },
] as const;

const TIERS = [
  { name: 'Bronze', rank: 0, threshold: 0, benefits: [] },
  { name: 'Silver', rank: 1, threshold: 1000, benefits: [{ code: 'PRIORITY_HOTLINE', description: 'Calls answered before the queue' }] },
  {
    name: 'Gold',
    rank: 2,
    threshold: 5000,
    benefits: [
      { code: 'PRIORITY_HOTLINE', description: 'Calls answered before the queue' },
      { code: 'FREE_DELIVERY', description: 'Free delivery of rewards' },
      { code: 'PRESALE_ACCESS', description: 'Early access to sales and events' },
    ],
  },
];

const FIRST = ['Anna', 'Piotr', 'Maria', 'Jakub', 'Olga', 'Ivan', 'Freja', 'Mads', 'Zofia', 'Lars'];
const LAST = ['Nowak', 'Kowalska', 'Ivanova', 'Petrov', 'Hansen', 'Jensen', 'Wiśniewska', 'Larsen', 'Smirnova', 'Nielsen'];

/**
 * Idempotent: a database that already holds the demo programs is left as it is, so a second
 * `pnpm dev` starts with the same data. Members are bulk-inserted in SQL (thousands in a second).
 */
export async function seedDemo(db: DataSource, clock: Clock, membersPerProgram = 2000): Promise<DemoProgram[]> {
  const programs: DemoProgram[] = [];
  for (const demo of DEMO) {
    const existing = await db.getRepository(ProgramEntity).findOneBy({ name: demo.name });
    if (existing) {
      const rows = (await db.query('SELECT count(*)::int AS count FROM members WHERE program_id = $1', [existing.id])) as { count: number }[];
      programs.push({ id: existing.id, name: demo.name, emailDomain: demo.domain, members: rows[0]?.count ?? 0 });
      continue;
    }
    programs.push(await db.transaction(async (tx) => {
      const now = clock.now();
      const program = await tx.getRepository(ProgramEntity).save({
        name: demo.name,
        type: demo.type,
        pointsCurrencyName: demo.currency,
        pointValueAmount: demo.value,
        pointValueCurrency: 'EUR',
        status: 'ACTIVE',
        createdAt: now,
        updatedAt: now,
      });
      const tierIds: string[] = [];
      for (const tier of TIERS) {
        const [row] = (await tx.query(
          'INSERT INTO tiers (program_id, name, rank, qualifying_threshold, benefits) VALUES ($1, $2, $3, $4, $5) RETURNING id',
          [program.id, tier.name, tier.rank, tier.threshold, JSON.stringify(tier.benefits)],
        )) as { id: string }[];
        tierIds.push(row!.id);
      }
      // One statement: members, their email/card/phone identifiers and their enrolment history.
      // Timestamps are cut to milliseconds, the precision of cursors and of JavaScript dates.
      await tx.query(
        `WITH src AS (
           SELECT i, gen_random_uuid() AS id,
                  date_trunc('milliseconds', $2::timestamptz - make_interval(mins => i)) AS at
           FROM generate_series(1, $3::int) AS i
         ), members_in AS (
           INSERT INTO members (id, program_id, status, first_name, last_name, preferred_language, tier_id, enrolled_via, enrolled_at, updated_at, referral_code)
           SELECT id, $1, 'ACTIVE', ($4::text[])[1 + i % 10], ($5::text[])[1 + (i / 10) % 10], 'en',
                  ($6::uuid[])[CASE WHEN i % 10 < 6 THEN 1 WHEN i % 10 < 9 THEN 2 ELSE 3 END], 'AGENT', at, at, upper(substr(md5(id::text), 1, 10))
           FROM src
           RETURNING id
         ), history AS (
           INSERT INTO member_status_changes (member_id, from_status, to_status, reason, changed_by, changed_at)
           SELECT id, NULL, 'ACTIVE', 'Enrolled (demo data)', 'seed', at FROM src
         )
         INSERT INTO member_identifiers (member_id, program_id, type, value, added_at)
         SELECT id, $1, 'EMAIL', 'member' || i || '@' || $7, at FROM src
         UNION ALL SELECT id, $1, 'CARD', $8 || lpad(i::text, 8, '0'), at FROM src
         UNION ALL SELECT id, $1, 'PHONE', '+4850' || lpad(i::text, 7, '0'), at FROM src WHERE i % 2 = 0`,
        [program.id, now.toISOString(), membersPerProgram, FIRST, LAST, tierIds, demo.domain, demo.cardPrefix],
      );
      // Announced like any enrolment, so the ledger (and every subgraph after it) knows the demo members.
      const enrolled = (await tx.query(`SELECT id, tier_id AS "tierId", enrolled_at AS "enrolledAt" FROM members WHERE program_id = $1 ORDER BY enrolled_at`, [program.id])) as {
        id: string;
        tierId: string | null;
        enrolledAt: Date;
      }[];
      await emit(
        tx,
        membersEvents,
        enrolled.map((m) => ({ type: 'MemberEnrolled' as const, payload: { programId: program.id, memberId: m.id, channel: 'AGENT' as const, referralId: null, enrolledAt: m.enrolledAt.toISOString(), tierId: m.tierId } })),
        now,
      );
      return { id: program.id, name: demo.name, emailDomain: demo.domain, members: membersPerProgram };
    }));
  }
  return programs;
}

/** The id of the demo member with the given email, for ready-made credentials. */
export async function memberIdByEmail(db: DataSource, programId: string, email: string): Promise<string | null> {
  const rows = (await db.query(`SELECT member_id FROM member_identifiers WHERE program_id = $1 AND type = 'EMAIL' AND value = $2`, [programId, email])) as {
    member_id: string;
  }[];
  return rows[0]?.member_id ?? null;
}
