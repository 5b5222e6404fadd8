import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, ManualClock } from '@loyalty-graph/shared';
import { openDatabase } from '@loyalty-graph/shared/db';
import { ScheduledJobs1764000000000, Scheduler, type SubgraphJob } from '@loyalty-graph/shared/jobs';
import { createTestDatabase, type TestDatabase } from '@loyalty-graph/testing';
import type { DataSource } from 'typeorm';

let database: TestDatabase;
let db: DataSource;
const logger = createLogger('scheduler-test', 'silent');

beforeAll(async () => {
  database = await createTestDatabase('scheduler');
  db = await openDatabase({ url: database.url, entities: [], migrations: [ScheduledJobs1764000000000], applicationName: 'scheduler-test', poolSize: 4 });
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

/** A job that counts its runs and takes a moment, so two replicas' ticks truly overlap. */
function countingJob(name: string, intervalMs: number): SubgraphJob & { runs: number } {
  const job = {
    name,
    intervalMs,
    runs: 0,
    async run() {
      job.runs++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return 7;
    },
  };
  return job;
}

describe('the scheduler', () => {
  it('runs a job started on two replicas at the same moment once, then again only when it is due', async () => {
    const clock = new ManualClock(new Date('2026-11-22T10:00:00Z'));
    const job = countingJob('once', 60_000);
    const replicaA = new Scheduler(db, clock, [job], logger);
    const replicaB = new Scheduler(db, clock, [job], logger);
    await replicaA.register();
    await replicaB.register();

    await Promise.all([replicaA.tick(), replicaB.tick(), replicaA.tick(), replicaB.tick()]);
    expect(job.runs).toBe(1);

    clock.advance(59_000);
    await Promise.all([replicaA.tick(), replicaB.tick()]);
    expect(job.runs).toBe(1);

    clock.advance(1_000);
    await Promise.all([replicaA.tick(), replicaB.tick()]);
    expect(job.runs).toBe(2);

    const [state] = (await replicaA.states()).filter((s) => s.name === 'once');
    expect(state).toMatchObject({ everyMs: 60_000, lastOutcome: 'OK', lastResult: 7, lastError: null });
    expect(state!.nextRunAt.toISOString()).toBe('2026-11-22T10:02:00.000Z');
    expect(state!.lastFinishedAt!.toISOString()).toBe('2026-11-22T10:01:00.000Z');
  });

  it('records a failed run with its error and tries again at the next interval', async () => {
    const clock = new ManualClock(new Date('2026-11-22T10:00:00Z'));
    let fail = true;
    const job: SubgraphJob = {
      name: 'flaky',
      intervalMs: 10_000,
      run: async () => {
        if (fail) throw new Error('the database was away');
        return 1;
      },
    };
    const scheduler = new Scheduler(db, clock, [job], logger);
    await scheduler.register();
    await scheduler.tick();
    expect((await scheduler.states()).find((s) => s.name === 'flaky')).toMatchObject({ lastOutcome: 'FAILED', lastError: 'the database was away' });

    fail = false;
    clock.advance(10_000);
    expect(await scheduler.tick()).toEqual({ flaky: 1 });
    expect((await scheduler.states()).find((s) => s.name === 'flaky')).toMatchObject({ lastOutcome: 'OK', lastError: null });
  });
});
