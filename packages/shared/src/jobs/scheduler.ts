import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import type { Clock } from '../clock';
import { returning } from '../db';
import type { Logger } from '../logger';

/** Recurring work of a subgraph (posting pending points, expiring holds, closing tier periods). */
export interface SubgraphJob {
  name: string;
  intervalMs: number;
  /**
   * How long a claimed run may last before another replica may assume it died (default 5
   * minutes). A job whose runs are bounded (a purchase import's run stops taking chunks after
   * 30 s) says so, and a replica killed mid-run is taken over that much sooner.
   */
  leaseMs?: number;
  /** Does one round of work; resolves to how much it did. */
  run(): Promise<number>;
}

/** A job's schedule and its last run, as operators see it. */
export interface JobState {
  name: string;
  everyMs: number;
  nextRunAt: Date;
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  lastOutcome: 'OK' | 'FAILED' | null;
  /** How much the last run did (rows posted, holds released…). */
  lastResult: number | null;
  lastError: string | null;
}

/** Longest a run may take before another replica may assume it died and take over. */
const LEASE_MS = 5 * 60_000;

/**
 * Runs a subgraph's recurring jobs. Every replica runs a scheduler; a job's run is claimed with
 * one conditional UPDATE (due, and not leased by a live run), so a job started twice at the same
 * moment, or on several replicas, runs once. The jobs are idempotent as well (they claim their
 * rows with SKIP LOCKED), so a lease that expires under a slow run costs time, not correctness.
 * Time comes from the injected clock: tests move it instead of sleeping.
 */
export class Scheduler {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly jobs: SubgraphJob[],
    private readonly logger: Logger,
  ) {}

  /** Registers the jobs (first run: now). Changing a job's interval takes effect here. */
  async register(): Promise<void> {
    for (const job of this.jobs) {
      await this.db.query(
        `INSERT INTO scheduled_jobs (name, every_ms, next_run_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET every_ms = EXCLUDED.every_ms`,
        [job.name, job.intervalMs, this.clock.now()],
      );
    }
  }

  /** Runs every job that is due and that this scheduler manages to claim; returns what ran. */
  async tick(): Promise<Record<string, number>> {
    const ran: Record<string, number> = {};
    for (const job of this.jobs) {
      const now = this.clock.now();
      const claimed = await returning(
        this.db,
        `UPDATE scheduled_jobs SET last_started_at = $2, leased_until = $3
         WHERE name = $1 AND next_run_at <= $2 AND (leased_until IS NULL OR leased_until <= $2) RETURNING name`,
        [job.name, now, new Date(now.getTime() + (job.leaseMs ?? LEASE_MS))],
      );
      if (claimed.length === 0) continue;
      try {
        const result = await job.run();
        ran[job.name] = result;
        await this.finish(job, 'OK', result, null);
      } catch (error) {
        this.logger.error('job failed', { job: job.name, error });
        await this.finish(job, 'FAILED', null, error instanceof Error ? error.message : String(error));
      }
    }
    return ran;
  }

  /** Ticks every `pollMs` until stopped; a tick never overlaps the previous one. */
  start(pollMs = 1_000): { stop(): Promise<void> } {
    let stopped = false;
    let current: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      current = current.then(() => (stopped ? undefined : this.tick().catch((error: unknown) => this.logger.error('scheduler tick failed', { error }))));
    }, pollMs);
    return {
      async stop() {
        stopped = true;
        clearInterval(timer);
        await current;
      },
    };
  }

  async states(): Promise<JobState[]> {
    return (await this.db.query(
      `SELECT name, every_ms::int AS "everyMs", next_run_at AS "nextRunAt", last_started_at AS "lastStartedAt", last_finished_at AS "lastFinishedAt",
              last_outcome AS "lastOutcome", last_result::int AS "lastResult", last_error AS "lastError"
       FROM scheduled_jobs ORDER BY name`,
    )) as JobState[];
  }

  private async finish(job: SubgraphJob, outcome: 'OK' | 'FAILED', result: number | null, error: string | null): Promise<void> {
    const now = this.clock.now();
    await this.db.query(
      `UPDATE scheduled_jobs SET last_finished_at = $2, next_run_at = $3, leased_until = NULL, last_outcome = $4, last_result = $5, last_error = $6 WHERE name = $1`,
      [job.name, now, new Date(now.getTime() + job.intervalMs), outcome, result, error?.slice(0, 1000) ?? null],
    );
  }
}

/** The scheduler's table; the subgraph kit adds it to every subgraph's migrations. */
export class ScheduledJobs1764000000000 implements MigrationInterface {
  name = 'ScheduledJobs1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE scheduled_jobs (
        name text PRIMARY KEY,
        every_ms bigint NOT NULL CHECK (every_ms > 0),
        next_run_at timestamptz NOT NULL,
        leased_until timestamptz,
        last_started_at timestamptz,
        last_finished_at timestamptz,
        last_outcome text CHECK (last_outcome IN ('OK', 'FAILED')),
        last_result bigint,
        last_error text
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE scheduled_jobs`);
  }
}
