import pg from 'pg';
import { windowsFor } from '../subgraphs/analytics/src/domain/activity-coverage';
import { DEFAULT_ACTIVE_WINDOW_DAYS } from '../subgraphs/analytics/src/domain/kpi-definitions';
import { BUILD_SQL, buildLongBuckets } from '../subgraphs/analytics/src/services/activity-builds';
import {
  MEMBER_DAYS_BY_FROM_FACTS,
  POINT_DAYS_BY_FROM_FACTS,
  PURCHASE_DAYS_BY_FROM_FACTS,
} from '../subgraphs/analytics/src/services/kpi-dimensions';

/**
 * Synthetic history for `pnpm bench analytics`: members, purchases, returns, redemptions and
 * expiries written straight into the analytics database as the consumers (services/facts.ts)
 * would have written them from members' and the ledger's events, with `member_state` folded from
 * the very facts written, by the consumers' rules.
 *
 * Why not through the event feed: 10,000,000 purchases through recordPurchase at a few hundred a
 * second is many hours of ledger work before analytics is even measured. The facts are the
 * analytics side's whole input, so KPI and segment queries see what they would see in production;
 * the ingestion phase of the benchmark measures the real path (ledger → outbox → feed → consumer).
 *
 * Everything is SQL (INSERT … SELECT over generate_series): no rows cross the wire, which is
 * faster than COPY from a client (pg-copy-streams is not a dependency of this repository anyway).
 * Every random draw is a hash of (seed, row number, attribute), so the same seed and the same
 * `asOf` give the same rows, in any chunk order and on any number of connections.
 */
export interface GeneratorOptions {
  /** The analytics database. */
  url: string;
  programId: string;
  members: number;
  /** Purchases to generate (10 × members in the benchmark); the heavy tail decides who makes them. */
  purchases: number;
  seed: number;
  /** The program's tiers, lowest rank first (entry tier first); exactly 3. */
  tierIds: string[];
  /** Partners some members enrolled through and some purchases were funded by. */
  partnerIds: string[];
  /** "Now" of the history: members enrolled over the 3 years before it. */
  asOf: Date;
  /** Members per statement (each statement writes their facts in one transaction). */
  chunkMembers?: number;
  /** Statements at once. */
  connections?: number;
  log?: (line: string) => void;
}

export interface GeneratorResult {
  seed: number;
  asOf: string;
  members: number;
  purchases: number;
  memberFacts: number;
  pointFacts: number;
  memberStates: number;
  /** Wall time of the facts and the member states (ANALYZE apart). */
  seconds: number;
  membersPerSecond: number;
  /** Fact rows (member_facts + point_facts) written per second over `seconds`; member_state rows not counted. */
  factsPerSecond: number;
  /** Time in each statement, summed over the connections: the facts' INSERTs and the member_state fold. */
  statementSeconds: { facts: number; memberState: number; connections: number };
  /** ANALYZE of the three tables after the load (not in `seconds`). */
  analyzeSeconds: number;
  /** The generated history's shape, to judge it. */
  shape: Record<string, unknown>;
}

/**
 * Purchases per member follow a discrete Pareto tail, P(count ≥ k) = k^-α capped at CAP: with
 * α = 0.8456 and CAP = 500 the mean is 11, 44% of members draw one purchase and 2% a hundred or
 * more. The draw's mean is a little above 10 so that cutting at exactly 10 × members leaves the
 * last members (about 9%, random in every other respect) enrolled without a purchase, as real
 * programs have.
 */
const ALPHA = 0.8456;
const CAP = 500;
/** Share of purchases returned (in full, within 14 days). */
const RETURN_RATE = 0.03;
/** Points expire 24 months after a member's last purchase. */
const EXPIRY_DAYS = 730;

/** Synthetic ids are recognisable: `a11a<kind>-0000-4000-8000-<row number in hex>`. */
export const SYNTHETIC_ID_PREFIX = 'a11a';

/** Session-local helpers (pg_temp): they go with the connection, nothing is left in the analytics schema. */
function helpers(seed: number): string[] {
  const s = Math.trunc(seed);
  return [
    // A uniform draw in (0, 1) for row i and attribute salt; IMMUTABLE SQL functions are inlined by the planner.
    `CREATE FUNCTION pg_temp.u(i bigint, salt int) RETURNS float8 LANGUAGE sql IMMUTABLE AS
       $$ SELECT ((hashint8extended(i, ${s}::bigint * 1000 + salt) & 2147483647)::float8 + 0.5) / 2147483648.0 $$`,
    `CREATE FUNCTION pg_temp.id(kind text, i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS
       $$ SELECT ('${SYNTHETIC_ID_PREFIX}' || kind || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid $$`,
    `CREATE FUNCTION pg_temp.purchases(i bigint) RETURNS int LANGUAGE sql IMMUTABLE AS
       $$ SELECT least(${CAP}, floor(pg_temp.u(i, 0) ^ (-1.0 / ${ALPHA})))::int $$`,
  ];
}

// Id kinds: members 0000, purchases 0002; point facts ACCRUED 0001, RETURNED 0003, REDEEMED 0004,
// EXPIRED 0005; member facts ENROLLED 0010, TIER_CHANGED to the second tier 0011 and to the third
// 0012, CONSENTS_CHANGED 0013. A purchase's number is global (1 … purchases).

/**
 * One chunk of members [$2, $3] and all their history, in one statement. $4 is how many purchases
 * the members before the chunk drew, so purchase numbers are global and the total stops at
 * exactly $5. $6 asOf, $7 asOf − 3 years, $8 tiers, $9 partners, $1 program.
 */
const CHUNK = `
WITH m AS MATERIALIZED (
  SELECT i, enrolled_at, before, greatest(0, least(c, $5::bigint - before))::int AS ce,
         CASE WHEN pg_temp.u(i, 2) < 0.70 THEN 'SELF' WHEN pg_temp.u(i, 2) < 0.95 THEN 'AGENT' ELSE 'PARTNER' END AS channel
  FROM (
    SELECT i, c, $4::bigint + sum(c) OVER (ORDER BY i) - c AS before,
           -- Enrolments grow over the 3 years (their density rises linearly towards asOf); a
           -- frequent buyer has been a member long enough to buy at most every 2 days on average
           -- (500 purchases: since nearly 3 years), or recent weeks would hold the heavy tail's purchases.
           date_trunc('milliseconds', greatest($7::timestamptz, least(
             $7::timestamptz + ($6::timestamptz - $7::timestamptz) * sqrt(pg_temp.u(i, 1)),
             $6::timestamptz - interval '2 days' * c))) AS enrolled_at
    FROM (SELECT i, pg_temp.purchases(i) AS c FROM generate_series($2::bigint, $3::bigint) AS i) counted
  ) x
),
enrolled AS (
  INSERT INTO member_facts (event_id, program_id, member_id, kind, channel, to_tier_id, partner_id, occurred_at, day, kpi_tier_id, kpi_partner_id, kpi_at)
  SELECT pg_temp.id('0010', i), $1, pg_temp.id('0000', i), 'ENROLLED', channel, ($8::uuid[])[1], partner_id, enrolled_at, (enrolled_at AT TIME ZONE 'UTC')::date,
         ($8::uuid[])[1], partner_id, enrolled_at
  FROM (SELECT m.*, CASE WHEN channel = 'PARTNER' THEN ($9::uuid[])[1 + floor(pg_temp.u(i, 3) * array_length($9::uuid[], 1))::int] END AS partner_id FROM m) e
),
-- Tiers follow how much a member buys: 10 purchases reach the second tier, 40 the third.
tier2 AS (
  SELECT i, ce, date_trunc('milliseconds', enrolled_at + ($6::timestamptz - enrolled_at) * (0.1 + 0.4 * pg_temp.u(i, 40))) AS at FROM m WHERE ce >= 10
),
tier2_in AS (
  INSERT INTO member_facts (event_id, program_id, member_id, kind, from_tier_id, to_tier_id, occurred_at, day)
  SELECT pg_temp.id('0011', i), $1, pg_temp.id('0000', i), 'TIER_CHANGED', ($8::uuid[])[1], ($8::uuid[])[2], at, (at AT TIME ZONE 'UTC')::date FROM tier2
),
tier3 AS (
  SELECT i, date_trunc('milliseconds', at + ($6::timestamptz - at) * 0.5 * pg_temp.u(i, 41)) AS at3 FROM tier2 WHERE ce >= 40
),
tier3_in AS (
  INSERT INTO member_facts (event_id, program_id, member_id, kind, from_tier_id, to_tier_id, occurred_at, day)
  SELECT pg_temp.id('0012', i), $1, pg_temp.id('0000', i), 'TIER_CHANGED', ($8::uuid[])[2], ($8::uuid[])[3], at3, (at3 AT TIME ZONE 'UTC')::date FROM tier3
),
-- When each member reached the second and third tier (null: never), so every fact's tier at its
-- instant (the kpi_* dimensions, services/kpi-dimensions.ts) is written with it: resolving them
-- afterwards with an UPDATE of 10,000,000 rows took over 20 minutes. A change wins at its instant.
reached AS MATERIALIZED (
  SELECT m.i, t2.at AS at2, t3.at3 FROM m LEFT JOIN tier2 t2 ON t2.i = m.i LEFT JOIN tier3 t3 ON t3.i = m.i
),
-- 60% grant e-mail marketing at enrolment, 40% of them SMS marketing too.
consents_in AS (
  INSERT INTO member_facts (event_id, program_id, member_id, kind, detail, occurred_at, day)
  SELECT pg_temp.id('0013', i), $1, pg_temp.id('0000', i), 'CONSENTS_CHANGED',
         CASE WHEN pg_temp.u(i, 31) < 0.4 THEN '{"consents": ["EMAIL:MARKETING", "SMS:MARKETING"]}'::jsonb ELSE '{"consents": ["EMAIL:MARKETING"]}'::jsonb END,
         enrolled_at, (enrolled_at AT TIME ZONE 'UTC')::date
  FROM m WHERE pg_temp.u(i, 30) < 0.6
),
-- Purchases: uniform between enrolment and asOf; baskets log-normal around 35 EUR (1 to 2,000);
-- two channels; 15% funded by a partner; 1 point per whole euro (the benchmark's earning rule).
p AS MATERIALIZED (
  SELECT m.i, g, v.at, v.amount, floor(v.amount)::bigint AS points,
         ($8::uuid[])[CASE WHEN v.at >= r.at3 THEN 3 WHEN v.at >= r.at2 THEN 2 ELSE 1 END] AS tier_id,
         CASE WHEN pg_temp.u(g, 13) < 0.65 THEN 'STORE' ELSE 'ONLINE' END AS channel,
         CASE WHEN pg_temp.u(g, 14) < 0.15 THEN ($9::uuid[])[1 + floor(pg_temp.u(g, 15) * array_length($9::uuid[], 1))::int] END AS partner_id,
         pg_temp.u(g, 16) < ${RETURN_RATE} AS returned,
         date_trunc('milliseconds', least($6::timestamptz, v.at + interval '1 day' * (1 + 13 * pg_temp.u(g, 17)))) AS returned_at
  FROM m JOIN reached r ON r.i = m.i
  CROSS JOIN LATERAL generate_series(m.before + 1, m.before + m.ce) AS g
  CROSS JOIN LATERAL (
    SELECT date_trunc('milliseconds', m.enrolled_at + ($6::timestamptz - m.enrolled_at) * pg_temp.u(g, 10)) AS at,
           round(least(2000, greatest(1, exp(ln(35) + 0.8 * sqrt(-2 * ln(pg_temp.u(g, 11))) * cos(2 * pi() * pg_temp.u(g, 12)))))::numeric, 2) AS amount
  ) v
),
accrued_in AS (
  INSERT INTO point_facts (event_id, program_id, member_id, kind, points, issuance_points, member_delta, purchase_id, partner_id, pending, amount, currency, channel, occurred_at, day,
                           kpi_tier_id, kpi_partner_id, kpi_channel, kpi_at)
  SELECT pg_temp.id('0001', g), $1, pg_temp.id('0000', i), 'ACCRUED', points, points, points, pg_temp.id('0002', g), partner_id, true, amount, 'EUR', channel, at, (at AT TIME ZONE 'UTC')::date,
         tier_id, partner_id, channel, at
  FROM p
),
-- A return within the window gives back everything, from pending: issuance and the member both lose the points.
returned_in AS (
  INSERT INTO point_facts (event_id, program_id, member_id, kind, points, issuance_points, member_delta, purchase_id, partner_id, occurred_at, day,
                           kpi_tier_id, kpi_partner_id, kpi_channel, kpi_at)
  SELECT pg_temp.id('0003', g), $1, pg_temp.id('0000', i), 'RETURNED', points, -points, -points, pg_temp.id('0002', g), partner_id, returned_at, (returned_at AT TIME ZONE 'UTC')::date,
         tier_id, partner_id, channel, at
  FROM p WHERE returned
),
-- Per member: points kept after returns and the last purchase.
kept AS (
  SELECT i, sum(points) FILTER (WHERE NOT returned) AS net, max(at) AS last_at FROM p GROUP BY i
),
-- 35% of members with 200 points or more redeem once, 30–80% of what they kept (in hundreds),
-- after their last purchase and before their points expire: the balance never goes negative.
redeemed AS (
  SELECT i, net, last_at, (floor(net * (0.3 + 0.5 * pg_temp.u(i, 21)) / 100) * 100)::bigint AS points,
         date_trunc('milliseconds', last_at + (least($6::timestamptz, last_at + interval '${EXPIRY_DAYS} days') - last_at) * pg_temp.u(i, 22)) AS at
  FROM kept WHERE net >= 200 AND pg_temp.u(i, 20) < 0.35
),
redeemed_in AS (
  INSERT INTO point_facts (event_id, program_id, member_id, kind, points, issuance_points, member_delta, occurred_at, day, kpi_tier_id, kpi_at)
  SELECT d.i_id, $1, pg_temp.id('0000', d.i), 'REDEEMED', d.points, 0, -d.points, d.at, (d.at AT TIME ZONE 'UTC')::date,
         ($8::uuid[])[CASE WHEN d.at >= r.at3 THEN 3 WHEN d.at >= r.at2 THEN 2 ELSE 1 END], d.at
  FROM (SELECT pg_temp.id('0004', i) AS i_id, * FROM redeemed WHERE points > 0) d JOIN reached r ON r.i = d.i
)
-- What is left expires ${EXPIRY_DAYS} days after the last purchase, when that is before asOf.
INSERT INTO point_facts (event_id, program_id, member_id, kind, points, issuance_points, member_delta, occurred_at, day, kpi_tier_id, kpi_at)
SELECT pg_temp.id('0005', k.i), $1, pg_temp.id('0000', k.i), 'EXPIRED', k.net - coalesce(r.points, 0), 0, -(k.net - coalesce(r.points, 0)), e.at, (e.at AT TIME ZONE 'UTC')::date,
       ($8::uuid[])[CASE WHEN e.at >= t.at3 THEN 3 WHEN e.at >= t.at2 THEN 2 ELSE 1 END], e.at
FROM kept k LEFT JOIN redeemed r ON r.i = k.i JOIN reached t ON t.i = k.i
CROSS JOIN LATERAL (SELECT k.last_at + interval '${EXPIRY_DAYS} days' AS at) e
WHERE e.at < $6::timestamptz AND k.net - coalesce(r.points, 0) > 0`;

/**
 * One chunk's member_state, folded from the facts just written with the consumers' rules
 * (services/facts.ts): latest tier and consents, purchases, spend, first/last purchase, balance =
 * Σ member_delta, earned = accrued + bonuses − what returns took back, redeemed = redeemed − refunded.
 */
const STATE = `
WITH mf AS (
  SELECT member_id,
         min(occurred_at) FILTER (WHERE kind = 'ENROLLED') AS enrolled_at,
         min(channel) FILTER (WHERE kind = 'ENROLLED') AS channel,
         (array_agg(partner_id) FILTER (WHERE kind = 'ENROLLED'))[1] AS partner_id,
         (array_agg(to_tier_id ORDER BY occurred_at DESC) FILTER (WHERE kind IN ('ENROLLED', 'TIER_CHANGED')))[1] AS tier_id,
         (array_agg(detail ORDER BY occurred_at DESC) FILTER (WHERE kind = 'CONSENTS_CHANGED'))[1] AS consents
  FROM member_facts WHERE member_id BETWEEN $2 AND $3 GROUP BY member_id
), pf AS (
  SELECT member_id,
         count(*) FILTER (WHERE kind = 'ACCRUED')::int AS purchases,
         coalesce(sum(amount) FILTER (WHERE kind = 'ACCRUED'), 0) AS spend,
         min(occurred_at) FILTER (WHERE kind = 'ACCRUED') AS first_at,
         max(occurred_at) FILTER (WHERE kind = 'ACCRUED') AS last_at,
         sum(member_delta) AS balance,
         coalesce(sum(points) FILTER (WHERE kind IN ('ACCRUED', 'BONUS')), 0) + coalesce(sum(member_delta) FILTER (WHERE kind = 'RETURNED'), 0) AS earned,
         coalesce(sum(points) FILTER (WHERE kind = 'REDEEMED'), 0) - coalesce(sum(points) FILTER (WHERE kind = 'REFUNDED'), 0) AS redeemed
  FROM point_facts WHERE program_id = $1 AND member_id BETWEEN $2 AND $3 GROUP BY member_id
)
INSERT INTO member_state (program_id, member_id, enrolled_at, enrolment_channel, enrolled_through_partner_id, status, tier_id, consents,
                          purchases, spend, first_purchase_at, last_purchase_at, points_balance, points_earned, points_redeemed)
SELECT $1, mf.member_id, mf.enrolled_at, mf.channel, mf.partner_id, 'ACTIVE', mf.tier_id,
       coalesce(ARRAY(SELECT jsonb_array_elements_text(mf.consents -> 'consents')), '{}'),
       coalesce(pf.purchases, 0), coalesce(pf.spend, 0), pf.first_at, pf.last_at,
       coalesce(pf.balance, 0), coalesce(pf.earned, 0), coalesce(pf.redeemed, 0)
FROM mf LEFT JOIN pf USING (member_id)`;

export async function generateHistory(options: GeneratorOptions): Promise<GeneratorResult> {
  if (options.tierIds.length !== 3) throw new Error(`the generator needs the program's 3 tiers, got ${options.tierIds.length}`);
  const log = options.log ?? (() => undefined);
  const chunk = options.chunkMembers ?? 50_000;
  const connections = options.connections ?? 2;
  const pool = new pg.Pool({ connectionString: options.url, max: connections, application_name: 'bench-analytics-generator' });
  // A bulk load: a lost commit on a crash only means generating again (the benchmark's database is thrown away).
  pool.on('connect', (client) => {
    void client.query(`SET synchronous_commit = off`);
  });
  const withHelpers = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      const [{ exists }] = (await client.query(`SELECT to_regproc('pg_temp.u') IS NOT NULL AS exists`)).rows as [{ exists: boolean }];
      if (!exists) for (const sql of helpers(options.seed)) await client.query(sql);
      return await work(client);
    } finally {
      client.release();
    }
  };
  const asOf = options.asOf;
  const start = new Date(asOf);
  start.setUTCFullYear(start.getUTCFullYear() - 3);
  const id = (kind: string, i: number) => `${SYNTHETIC_ID_PREFIX}${kind}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
  try {
    const started = performance.now();
    // Purchases drawn per chunk, so each chunk knows the global number of its first purchase.
    const drawn = await withHelpers(
      async (client) =>
        (await client.query(`SELECT ((i - 1) / $2)::int AS k, sum(pg_temp.purchases(i))::bigint AS n FROM generate_series(1, $1::bigint) AS i GROUP BY 1 ORDER BY 1`, [options.members, chunk]))
          .rows as { k: number; n: string }[],
    );
    const chunks = drawn.map((row, k) => ({ lo: k * chunk + 1, hi: Math.min(options.members, (k + 1) * chunk), before: drawn.slice(0, k).reduce((s, r) => s + Number(r.n), 0) }));
    const drawnTotal = drawn.reduce((s, r) => s + Number(r.n), 0);
    if (drawnTotal < options.purchases) log(`generator: the draw gave ${drawnTotal} purchases, fewer than ${options.purchases} (a small scale's chance); continuing with ${drawnTotal}`);
    let done = 0;
    // Summed over connections: which statement the time goes to.
    const statementSeconds = { facts: 0, memberState: 0 };
    const queue = [...chunks];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const { lo, hi, before } = next;
        await withHelpers(async (client) => {
          await client.query('BEGIN');
          const t0 = performance.now();
          await client.query(CHUNK, [options.programId, lo, hi, before, options.purchases, asOf.toISOString(), start.toISOString(), options.tierIds, options.partnerIds]);
          const t1 = performance.now();
          await client.query(STATE, [options.programId, id('0000', lo), id('0000', hi)]);
          await client.query('COMMIT');
          statementSeconds.facts += (t1 - t0) / 1000;
          statementSeconds.memberState += (performance.now() - t1) / 1000;
        });
        done += hi - lo + 1;
        log(`generator: ${done}/${options.members} members (${Math.round((performance.now() - started) / 1000)} s)`);
      }
    };
    await Promise.all(Array.from({ length: connections }, worker));
    // The consumer keeps the daily rollups (point_days, purchase_days, member_days) as facts arrive;
    // facts written here bypass it, so the generated program's days are summed once from its facts
    // (as the rollups' migrations backfill them). Unfiltered KPIs read these.
    await pool.query(`DELETE FROM point_days WHERE program_id = $1`, [options.programId]);
    await pool.query(`DELETE FROM purchase_days WHERE program_id = $1`, [options.programId]);
    await pool.query(`DELETE FROM member_days WHERE program_id = $1`, [options.programId]);
    await pool.query(
      `INSERT INTO point_days (program_id, day, issued, redeemed, expired, purchases, accrued, pending_delta)
       SELECT program_id, day, sum(issuance_points),
              coalesce(sum(points) FILTER (WHERE kind = 'REDEEMED'), 0) - coalesce(sum(points) FILTER (WHERE kind = 'REFUNDED'), 0),
              coalesce(sum(points) FILTER (WHERE kind = 'EXPIRED'), 0) - coalesce(sum(points) FILTER (WHERE kind = 'REINSTATED'), 0),
              count(*) FILTER (WHERE kind = 'ACCRUED'), coalesce(sum(points) FILTER (WHERE kind = 'ACCRUED'), 0), sum(pending_delta)
         FROM point_facts WHERE program_id = $1 GROUP BY program_id, day`,
      [options.programId],
    );
    await pool.query(
      `INSERT INTO purchase_days (program_id, day, currency, purchases, spend)
       SELECT program_id, day, currency, count(*), sum(amount) FROM point_facts
        WHERE program_id = $1 AND kind = 'ACCRUED' AND amount IS NOT NULL AND currency IS NOT NULL GROUP BY program_id, day, currency`,
      [options.programId],
    );
    await pool.query(
      `INSERT INTO member_days (program_id, day, enrolled, referred, qualified)
       SELECT program_id, day, count(*) FILTER (WHERE kind = 'ENROLLED'), count(*) FILTER (WHERE kind = 'ENROLLED' AND referral_id IS NOT NULL),
              count(*) FILTER (WHERE kind = 'REFERRAL_QUALIFIED')
         FROM member_facts WHERE program_id = $1 AND kind IN ('ENROLLED', 'REFERRAL_QUALIFIED') GROUP BY program_id, day`,
      [options.programId],
    );
    // The rollups per tier, partner and channel likewise, summed per day from the facts' dimensions
    // (their kpi_* columns, written with them by CHUNK), by the migration's SQL.
    const byStarted = performance.now();
    await pool.query(`DELETE FROM point_days_by WHERE program_id = $1`, [options.programId]);
    await pool.query(`DELETE FROM purchase_days_by WHERE program_id = $1`, [options.programId]);
    await pool.query(`DELETE FROM member_days_by WHERE program_id = $1`, [options.programId]);
    await pool.query(POINT_DAYS_BY_FROM_FACTS('program_id = $1'), [options.programId]);
    await pool.query(PURCHASE_DAYS_BY_FROM_FACTS('program_id = $1'), [options.programId]);
    await pool.query(MEMBER_DAYS_BY_FROM_FACTS('program_id = $1'), [options.programId]);
    log(`generator: rollups per tier, partner and channel in ${Math.round((performance.now() - byStarted) / 1000)} s`);
    // The activity rollups likewise (activity_days per window, services/activity-rollups.ts): built
    // set-based from the facts by the consumer's own SQL, for the windows of every settings version.
    const activityStarted = performance.now();
    await pool.query(`DELETE FROM activity_days WHERE program_id = $1`, [options.programId]);
    await pool.query(`DELETE FROM activity_windows WHERE program_id = $1`, [options.programId]);
    const settings = (await pool.query(`SELECT DISTINCT active_window_days AS w FROM analytics_settings WHERE program_id = $1`, [options.programId])).rows as { w: number }[];
    const windows = [...new Set([DEFAULT_ACTIVE_WINDOW_DAYS, ...settings.map((r) => r.w)].flatMap(windowsFor))];
    await pool.query(BUILD_SQL('program_id = $1'), [options.programId, windows]);
    await pool.query(`INSERT INTO activity_windows (program_id, window_days, built_at) SELECT $1, unnest($2::int[]), now()`, [options.programId, windows]);
    log(`generator: activity rollups of ${windows.length} windows in ${Math.round((performance.now() - activityStarted) / 1000)} s`);
    // And the retained counts of the calendar buckets longer than each settings window (a QUARTER
    // or a YEAR under 90 days), which the consumer builds with the windows.
    const longStarted = performance.now();
    await pool.query(`DELETE FROM activity_retained WHERE program_id = $1`, [options.programId]);
    await pool.query(`DELETE FROM activity_retained_windows WHERE program_id = $1`, [options.programId]);
    const settingsWindows = [...new Set([DEFAULT_ACTIVE_WINDOW_DAYS, ...settings.map((r) => r.w)])];
    await buildLongBuckets(async (sql, params) => (await pool.query(sql, params)).rows as unknown[], options.programId, settingsWindows);
    await pool.query(`INSERT INTO activity_retained_windows (program_id, window_days, built_at) SELECT $1, unnest($2::int[]), now()`, [options.programId, settingsWindows]);
    log(`generator: long buckets of ${settingsWindows.length} windows in ${Math.round((performance.now() - longStarted) / 1000)} s`);
    const seconds = (performance.now() - started) / 1000;
    // The planner needs statistics before the first query; autovacuum would take its time to notice.
    const analyzeStarted = performance.now();
    await pool.query(`ANALYZE point_facts, member_facts, member_state`);
    const analyzeSeconds = (performance.now() - analyzeStarted) / 1000;

    const like = `${SYNTHETIC_ID_PREFIX}%`;
    const [counts] = (
      await pool.query(
        `SELECT (SELECT count(*) FROM member_facts WHERE program_id = $1 AND member_id::text LIKE $2)::int AS "memberFacts",
                (SELECT count(*) FROM point_facts WHERE program_id = $1 AND member_id::text LIKE $2)::int AS "pointFacts",
                (SELECT count(*) FROM member_state WHERE program_id = $1 AND member_id::text LIKE $2)::int AS "memberStates"`,
        [options.programId, like],
      )
    ).rows as { memberFacts: number; pointFacts: number; memberStates: number }[];
    const shape = await describeShape(pool, options.programId, like);
    const purchases = Number((shape['purchases'] as { total: number }).total);
    return {
      seed: options.seed,
      asOf: asOf.toISOString(),
      members: options.members,
      purchases,
      ...counts!,
      seconds: Number(seconds.toFixed(1)),
      membersPerSecond: Math.round(options.members / seconds),
      factsPerSecond: Math.round((counts!.memberFacts + counts!.pointFacts) / seconds),
      statementSeconds: { facts: Number(statementSeconds.facts.toFixed(1)), memberState: Number(statementSeconds.memberState.toFixed(1)), connections },
      analyzeSeconds: Number(analyzeSeconds.toFixed(1)),
      shape,
    };
  } finally {
    await pool.end();
  }
}

/** Counts that show the history is shaped as intended (skew, channels, kinds, tiers). */
async function describeShape(pool: pg.Pool, programId: string, like: string): Promise<Record<string, unknown>> {
  const [perMember] = (
    await pool.query(
      `SELECT count(*) FILTER (WHERE purchases = 0)::int AS "none", count(*) FILTER (WHERE purchases = 1)::int AS "one",
              count(*) FILTER (WHERE purchases BETWEEN 2 AND 9)::int AS "twoToNine", count(*) FILTER (WHERE purchases BETWEEN 10 AND 99)::int AS "tenTo99",
              count(*) FILTER (WHERE purchases >= 100)::int AS "hundredOrMore", max(purchases)::int AS "most", sum(purchases)::bigint::text AS total,
              percentile_disc(0.5) WITHIN GROUP (ORDER BY purchases)::int AS median,
              count(*) FILTER (WHERE points_balance < 0)::int AS "negativeBalances"
       FROM member_state WHERE program_id = $1 AND member_id::text LIKE $2`,
      [programId, like],
    )
  ).rows as Record<string, unknown>[];
  const kinds = (await pool.query(`SELECT kind, count(*)::int AS n FROM point_facts WHERE program_id = $1 AND member_id::text LIKE $2 GROUP BY 1 ORDER BY 1`, [programId, like])).rows as { kind: string; n: number }[];
  const channels = (await pool.query(`SELECT channel, count(*)::int AS n FROM point_facts WHERE program_id = $1 AND kind = 'ACCRUED' AND member_id::text LIKE $2 GROUP BY 1 ORDER BY 1`, [programId, like]))
    .rows as { channel: string; n: number }[];
  const [baskets] = (
    await pool.query(
      `SELECT percentile_disc(ARRAY[0.1, 0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY amount)::text[] AS amounts, count(*) FILTER (WHERE partner_id IS NOT NULL)::int AS "partnerFunded"
       FROM point_facts WHERE program_id = $1 AND kind = 'ACCRUED' AND member_id::text LIKE $2`,
      [programId, like],
    )
  ).rows as { amounts: string[]; partnerFunded: number }[];
  const memberKinds = (await pool.query(`SELECT kind, count(*)::int AS n FROM member_facts WHERE program_id = $1 AND member_id::text LIKE $2 GROUP BY 1 ORDER BY 1`, [programId, like])).rows as { kind: string; n: number }[];
  const enrolments = (
    await pool.query(`SELECT extract(year FROM occurred_at)::int AS year, count(*)::int AS n FROM member_facts WHERE program_id = $1 AND kind = 'ENROLLED' AND member_id::text LIKE $2 GROUP BY 1 ORDER BY 1`, [programId, like])
  ).rows as { year: number; n: number }[];
  return {
    purchases: perMember,
    membersByPurchases: 'none / one / 2–9 / 10–99 / 100 or more, from member_state',
    pointFactsByKind: Object.fromEntries(kinds.map((r) => [r.kind, r.n])),
    memberFactsByKind: Object.fromEntries(memberKinds.map((r) => [r.kind, r.n])),
    purchasesByChannel: Object.fromEntries(channels.map((r) => [r.channel, r.n])),
    basketEur: { p10: baskets?.amounts[0], p50: baskets?.amounts[1], p90: baskets?.amounts[2], p99: baskets?.amounts[3] },
    partnerFundedPurchases: baskets?.partnerFunded,
    enrolmentsByYear: Object.fromEntries(enrolments.map((r) => [r.year, r.n])),
  };
}
