import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseUrl, ensureDatabase, openDatabase } from '@loyalty-graph/shared/db';
import { startEmbeddedPostgres } from '@loyalty-graph/testing/embedded-postgres';
import { bucketsBetween, type Period } from '../subgraphs/analytics/src/domain/periods';
import { migrations } from '../subgraphs/analytics/src/migrations';
import { Kpis } from '../subgraphs/analytics/src/services/kpis';
import { generateHistory } from './analytics-generator';

/**
 * The activity figures' SQL alone, scan against rollups, on a generated history in a throw-away
 * embedded PostgreSQL (no stack, no gateway): `tsx bench/analytics-activity.ts` with
 * ANALYTICS_BENCH_MEMBERS (default 100,000; 10 purchases per member). Prints the timings the
 * analytics README's Performance section quotes, and fails if the two paths disagree.
 */
const MEMBERS = Number(process.env['ANALYTICS_BENCH_MEMBERS'] ?? 100_000);
const RUNS = Number(process.env["ACTIVITY_BENCH_RUNS"] ?? 5);

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'activity-bench-'));
  const pg = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), persistent: false, durable: false });
  try {
    await ensureDatabase(pg.url, 'analytics');
    const db = await openDatabase({ url: databaseUrl(pg.url, 'analytics'), entities: [], migrations, applicationName: 'bench-activity' });
    const programId = randomUUID();
    const asOf = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000);
    const generated = await generateHistory({
      url: databaseUrl(pg.url, 'analytics'),
      programId,
      members: MEMBERS,
      purchases: MEMBERS * 10,
      seed: 42,
      tierIds: [randomUUID(), randomUUID(), randomUUID()],
      partnerIds: [randomUUID()],
      asOf,
      log: console.log,
    });
    console.log(`generated ${generated.purchases} purchases in ${generated.seconds} s`);
    await db.query(`VACUUM ANALYZE`);
    const kpis = new Kpis(db);
    const cases: [string, Period, number][] = [
      ['12 MONTH buckets', 'MONTH', 365],
      ['30 DAY buckets', 'DAY', 30],
      ['52 WEEK buckets', 'WEEK', 364],
      // Longer than the 90-day window (but Q1 of a common year): retained read from activity_retained.
      ['QUARTER buckets × 3 years', 'QUARTER', 3 * 365],
      ['YEAR buckets × 3 years', 'YEAR', 3 * 365],
    ];
    for (const [name, period, days] of cases) {
      const planned = bucketsBetween(period, new Date(asOf.getTime() - days * 86_400_000), asOf);
      if (!planned.ok) throw new Error(planned.message);
      const windows = planned.buckets.map(() => 90);
      const time = async <T>(run: () => Promise<T>) => {
        const ms: number[] = [];
        let result: T | undefined;
        for (let i = 0; i < RUNS; i++) {
          const t0 = performance.now();
          result = await run();
          ms.push(performance.now() - t0);
        }
        ms.sort((a, b) => a - b);
        return { result: result!, medianMs: Math.round(ms[Math.floor(RUNS / 2)]!), maxMs: Math.round(ms[RUNS - 1]!) };
      };
      const scan = await time(() => kpis.scannedActivity(programId, planned.buckets, windows));
      const rolled = await time(() => kpis.rolledUpActivity(programId, planned.buckets, windows));
      const empty = { active: 0, activeAtStart: 0, retained: 0, churned: 0 };
      const differing = planned.buckets.filter(
        (b) => JSON.stringify(scan.result.get(b.start.getTime()) ?? empty) !== JSON.stringify(rolled.result?.get(b.start.getTime()) ?? null),
      );
      for (const b of differing) console.log(`  differs at ${b.start.toISOString()}: scan ${JSON.stringify(scan.result.get(b.start.getTime()))}, rollups ${JSON.stringify(rolled.result?.get(b.start.getTime()))}`);
      const same = differing.length === 0;
      console.log(`${name} (${planned.buckets.length}): scan median ${scan.medianMs} ms (max ${scan.maxMs}); rollups median ${rolled.medianMs} ms (max ${rolled.maxMs}); equal: ${same}`);
      if (!same) process.exitCode = 1;
    }
    await db.destroy();
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
