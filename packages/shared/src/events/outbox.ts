import pg from 'pg';
import type { DataSource, EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import { returning } from '../db';
import type { Logger } from '../logger';
import type { EventEnvelope, FeedBatch, NewEvent, ReadOptions } from './envelope';
import type { EventSource } from './source';

/**
 * The producer's side of delivery: a transactional outbox and the feed consumers read.
 *
 * Why a sequencer: an outbox row's id is drawn when it is inserted, but transactions commit in
 * another order, so a reader following `id > last` would skip a row whose transaction committed
 * late. Instead, committed rows are given a `position` afterwards, by one sequencer at a time
 * (a transaction-scoped advisory lock), in id order. Positions are then dense and only ever grow
 * in commit order of the sequencer, so `position > last` misses nothing.
 *
 * Why the id is drawn again in the trigger: per aggregate, writers are serialised on the
 * aggregate's version counter row, and the id drawn after that lock follows their commit order.
 * A sequencer batch taken in id order therefore never holds version n+1 without version n:
 * per-aggregate order survives without any consumer-side reordering.
 */
export class Outbox1764100000000 implements MigrationInterface {
  name = 'Outbox1764100000000';

  async up(q: QueryRunner): Promise<void> {
    // The ledger created its outbox earlier (with an entry_id column of its own); others start here.
    await q.query(`
      CREATE TABLE IF NOT EXISTS outbox (
        id bigserial PRIMARY KEY,
        aggregate_type text NOT NULL,
        aggregate_id uuid NOT NULL,
        event_type text NOT NULL,
        event_version int NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`
      ALTER TABLE outbox
        ADD COLUMN event_id uuid NOT NULL DEFAULT gen_random_uuid(),
        ADD COLUMN aggregate_version int,
        ADD COLUMN position bigint,
        ADD COLUMN sequenced_at timestamptz`);
    await q.query(`UPDATE outbox o SET aggregate_version = v.n FROM (SELECT id, row_number() OVER (PARTITION BY aggregate_id ORDER BY id) AS n FROM outbox) v WHERE o.id = v.id`);
    await q.query(`ALTER TABLE outbox ALTER COLUMN aggregate_version SET NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX outbox_event_id ON outbox (event_id)`);
    await q.query(`CREATE UNIQUE INDEX outbox_position ON outbox (position)`);
    await q.query(`CREATE UNIQUE INDEX outbox_aggregate_version ON outbox (aggregate_id, aggregate_version)`);
    await q.query(`CREATE INDEX outbox_unsequenced ON outbox (id) WHERE position IS NULL`);
    await q.query(`CREATE TABLE outbox_aggregates (aggregate_id uuid PRIMARY KEY, version int NOT NULL)`);
    await q.query(`INSERT INTO outbox_aggregates SELECT aggregate_id, max(aggregate_version) FROM outbox GROUP BY aggregate_id`);
    await q.query(`
      CREATE FUNCTION outbox_before_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO outbox_aggregates AS a (aggregate_id, version) VALUES (NEW.aggregate_id, 1)
          ON CONFLICT (aggregate_id) DO UPDATE SET version = a.version + 1
          RETURNING version INTO NEW.aggregate_version;
        NEW.id := nextval('outbox_id_seq');
        NEW.position := NULL;
        NEW.sequenced_at := NULL;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER outbox_before_insert BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_before_insert()`);
    // Wakes long-polling feeds at commit (NOTIFY is delivered on commit, once per transaction).
    await q.query(`
      CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('outbox', ''); RETURN NULL; END $$`);
    await q.query(`CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER outbox_notify ON outbox`);
    await q.query(`DROP TRIGGER outbox_before_insert ON outbox`);
    await q.query(`DROP FUNCTION outbox_notify()`);
    await q.query(`DROP FUNCTION outbox_before_insert()`);
    await q.query(`DROP TABLE outbox_aggregates`);
    await q.query(`ALTER TABLE outbox DROP COLUMN event_id, DROP COLUMN aggregate_version, DROP COLUMN position, DROP COLUMN sequenced_at`);
  }
}

/** Writes events inside the caller's transaction: committed with the change, or not at all. */
export async function emitEvents(tx: EntityManager, events: NewEvent[], at: Date): Promise<void> {
  if (!events.length) return;
  await tx.query(
    `INSERT INTO outbox (aggregate_type, aggregate_id, event_type, event_version, payload, created_at)
     SELECT aggregate_type, aggregate_id, event_type, event_version, payload, $6
     FROM unnest($1::text[], $2::uuid[], $3::text[], $4::int[], $5::jsonb[]) AS t(aggregate_type, aggregate_id, event_type, event_version, payload)`,
    [events.map((e) => e.aggregateType), events.map((e) => e.aggregateId), events.map((e) => e.type), events.map((e) => e.version), events.map((e) => JSON.stringify(e.payload)), at],
  );
}

/** Any stable number: every replica of one producer must use the same key. */
const SEQUENCER_LOCK = 7_410_352_001;
/** Most rows one sequencer pass numbers; the next pass takes the rest. */
const SEQUENCE_BATCH = 5_000;
/** How often a waiting long poll looks again when no notification came (lost NOTIFY, or a row not yet sequenced). */
const RECHECK_MS = 200;
/** After a commit wakes a long poll, how long it lets more commits gather before reading. */
const COALESCE_MS = 5;

interface OutboxRow {
  position: string;
  event_id: string;
  aggregate_type: string;
  aggregate_id: string;
  aggregate_version: number;
  event_type: string;
  event_version: number;
  payload: Record<string, unknown>;
  created_at: Date;
}

export interface OutboxFeedOptions {
  producer: string;
  db: DataSource;
  logger: Logger;
  /**
   * For LISTEN, a dedicated connection outside the pool (defaults to the DataSource's URL; `false`
   * turns it off). Without it, long polls recheck on a timer.
   */
  listenUrl?: string | false;
}

/**
 * The producer's feed: numbers committed events and serves them from a position, long-polling
 * when there is nothing new. Served over HTTP by the producer (see http-feed.ts) and usable
 * directly in-process, so it is itself an EventSource.
 */
export class OutboxFeed implements EventSource {
  readonly producer: string;
  private listener: pg.Client | null = null;
  private waiters = new Set<() => void>();
  private closed = false;

  constructor(private readonly options: OutboxFeedOptions) {
    this.producer = options.producer;
  }

  /** Numbers committed, unnumbered rows (if no other replica is doing it right now). */
  async sequence(): Promise<number> {
    return this.options.db.transaction(async (tx) => {
      const [{ locked }] = (await tx.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [SEQUENCER_LOCK])) as [{ locked: boolean }];
      if (!locked) return 0;
      const numbered = await returning(
        tx,
        `WITH next AS (
           SELECT id, row_number() OVER (ORDER BY id) AS n FROM (SELECT id FROM outbox WHERE position IS NULL ORDER BY id LIMIT $1) t
         ), base AS (SELECT coalesce(max(position), 0) AS p FROM outbox)
         UPDATE outbox o SET position = base.p + next.n, sequenced_at = now() FROM next, base WHERE o.id = next.id RETURNING o.id`,
        [SEQUENCE_BATCH],
      );
      return numbered.length;
    });
  }

  /**
   * Events after `after`, oldest first; waits up to `waitMs` for new ones when there are none.
   * Numbering runs first when something waits for it, so a read always sees every commit.
   */
  async read(after: number, limit: number, waitMs = 0, { types, signal }: ReadOptions = {}): Promise<FeedBatch> {
    const deadline = Date.now() + waitMs;
    // Where the next look starts: once a look found nothing of the asked types up to head, a later
    // look (after a wake-up) need not read those rows again.
    let from = after;
    for (;;) {
      let found = await this.select(from, limit, types);
      if (found.pending) {
        await this.sequence();
        found = await this.select(from, limit, types);
      }
      const remaining = deadline - Date.now();
      if (found.events.length || remaining <= 0 || this.closed || signal?.aborted) {
        // A full page may have more of the asked types behind it; otherwise everything up to head was looked at.
        const scanned = found.events.length === limit ? found.events.at(-1)!.position : Math.max(found.head, from);
        return { events: found.events, head: found.head, scanned };
      }
      from = Math.max(from, found.head);
      // Woken by a commit: wait a moment longer, so a burst of commits is read at once.
      if (await this.waitForCommit(Math.min(remaining, RECHECK_MS), signal)) await new Promise((resolve) => setTimeout(resolve, COALESCE_MS));
    }
  }

  /** One statement, so the page, the head and whether anything waits to be numbered agree. */
  private async select(after: number, limit: number, types: readonly string[] | undefined): Promise<{ events: EventEnvelope[]; head: number; pending: boolean }> {
    const rows = (await this.options.db.query(
      `SELECT h.head::text, p.pending, o.*
       FROM (SELECT coalesce(max(position), 0) AS head FROM outbox) h
       CROSS JOIN (SELECT EXISTS (SELECT 1 FROM outbox WHERE position IS NULL) AS pending) p
       LEFT JOIN LATERAL (
         SELECT position::text AS position, event_id, aggregate_type, aggregate_id, aggregate_version, event_type, event_version, payload, created_at
         FROM outbox WHERE outbox.position > $1 AND ($3::text[] IS NULL OR event_type = ANY($3)) ORDER BY outbox.position LIMIT $2
       ) o ON true`,
      [after, limit, types ?? null],
    )) as (Omit<OutboxRow, 'position'> & { position: string | null; head: string; pending: boolean })[];
    const first = rows[0]!;
    return {
      events: rows.filter((row) => row.position !== null).map((row) => this.envelope(row as OutboxRow)),
      head: Number(first.head),
      pending: first.pending,
    };
  }

  /** Stops listening and wakes every waiting poll. */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.waiters) wake();
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
  }

  private envelope(row: OutboxRow): EventEnvelope {
    return {
      id: row.event_id,
      producer: this.producer,
      position: Number(row.position),
      aggregateType: row.aggregate_type,
      aggregateId: row.aggregate_id,
      aggregateVersion: row.aggregate_version,
      type: row.event_type,
      version: row.event_version,
      payload: row.payload,
      occurredAt: row.created_at.toISOString(),
    };
  }

  /** Resolves true when a commit woke it, false when the time ran out (or the reader left). */
  private async waitForCommit(ms: number, signal?: AbortSignal): Promise<boolean> {
    await this.listen();
    return new Promise<boolean>((resolve) => {
      const done = (notified: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        signal?.removeEventListener('abort', left);
        resolve(notified);
      };
      const wake = () => done(true);
      const left = () => done(false);
      const timer = setTimeout(left, ms);
      this.waiters.add(wake);
      signal?.addEventListener('abort', left);
    });
  }

  /** One LISTEN connection per feed, opened on first wait; if it drops, the timer still rechecks. */
  private async listen(): Promise<void> {
    const url = this.options.listenUrl ?? (this.options.db.options as { url?: string }).url;
    if (this.listener || !url || this.closed) return;
    const client = new pg.Client({ connectionString: url, application_name: `${this.producer}-outbox-listen` });
    this.listener = client;
    client.on('notification', () => {
      for (const wake of this.waiters) wake();
    });
    client.on('error', (error) => {
      this.options.logger.warn('outbox listener lost; polling until it reconnects', { error: error.message });
      if (this.listener === client) this.listener = null;
    });
    try {
      await client.connect();
      await client.query('LISTEN outbox');
    } catch (error) {
      if (this.listener === client) this.listener = null;
      await client.end().catch(() => undefined);
      this.options.logger.warn('outbox listener could not connect; polling', { error: error instanceof Error ? error.message : String(error) });
    }
  }
}
