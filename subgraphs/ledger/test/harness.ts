/**
 * The ledger's concurrency harness: many workers hammer the ledger's services against real
 * PostgreSQL while a chaos loop kills database backends mid-transaction; clients retry failed
 * requests with the same idempotency key, and ~10% of requests are duplicates of earlier ones.
 * Afterwards the audit (src/audit.ts) must find nothing. A deliberately broken strategy (an
 * adjustment without atomic idempotency) runs the same way and the audit must catch it: proof
 * that the check can fail.
 *
 * Runs in CI with a short profile (harness.test.ts) and long with `pnpm bench ledger`.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { GraphQLError } from 'graphql';
import { ANONYMOUS, DomainError, serviceViewer, systemClock, type Clock, type Viewer } from '@loyalty-graph/shared';
import { databaseUrl, openDatabase } from '@loyalty-graph/shared/db';
import type { DataSource } from 'typeorm';
import { checkInvariants, type Acknowledged } from '../src/audit';
import { createServices, type Services } from '../src/context';
import { adjustmentLines } from '../src/domain/journal';
import type { MemberDirectory, MemberSnapshot } from '@loyalty-graph/shared/member-snapshots';
import { ledgerSubgraph } from '../src/server';
import { lots } from '../src/services/lots';
import { store } from '../src/services/store';

export interface HarnessProfile {
  name: string;
  /** Concurrent clients. */
  workers: number;
  /** Members whose accounts the operations spread over: ≤ 10 is hot, ≥ 10,000 is cold. */
  accounts: number;
  operations: number;
  /**
   * Share of requests repeated with their key: as a re-send of an earlier request (a client
   * retry) and, as often, as a double submit of the same request at the same moment.
   */
  duplicateRate: number;
  /** Kill one of the ledger's database backends this often (null: no chaos). */
  chaosEveryMs: number | null;
  /** 'broken' swaps in an adjustment that claims its key in a separate transaction. */
  strategy: 'correct' | 'broken';
  seed: number;
}

export interface HarnessReport {
  profile: string;
  strategy: string;
  operations: number;
  acknowledged: number;
  rejected: Record<string, number>;
  retries: number;
  gaveUp: number;
  backendsKilled: number;
  seconds: number;
  operationsPerSecond: number;
  violations: string[];
}

type Op =
  | { kind: 'purchase'; key: string; memberId: string; externalId: string; amount: string }
  | { kind: 'adjust'; key: string; memberId: string; points: number }
  | { kind: 'hold'; key: string; memberId: string; points: number }
  | { kind: 'settle'; key: string; capture: boolean }
  | { kind: 'transfer'; key: string; from: string; to: string; points: number };

/** A small deterministic PRNG, so a failing run can be replayed from its seed. */
function random(seed: number) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

const MAX_CLIENT_RETRIES = 8;

export async function runHarness(serverUrl: string, profile: HarnessProfile): Promise<HarnessReport> {
  const name = `harness_${profile.name}_${profile.strategy}_${randomUUID().slice(0, 8)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const db = await openDatabase({ url: databaseUrl(serverUrl, name), entities: [], migrations: ledgerSubgraph.database.migrations, applicationName: 'ledger-harness', poolSize: profile.workers + 4 });
  try {
    return await run(db, admin, name, profile, databaseUrl(serverUrl, name));
  } finally {
    await db.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function run(db: DataSource, admin: pg.Client, dbName: string, profile: HarnessProfile, url: string): Promise<HarnessReport> {
  const programId = randomUUID();
  const members: MemberSnapshot[] = Array.from({ length: profile.accounts }, () => ({ id: randomUUID(), programId, status: 'ACTIVE', tierId: null, groupIds: [], sharesWithPartners: false, partnerMarketing: false }));
  const byId = new Map(members.map((m) => [m.id, m]));
  // The members subgraph is not under test here: the ledger's port to it answers from memory.
  const directory: MemberDirectory = async (ids) => ids.map((id) => byId.get(id) ?? null);
  const clock: Clock = systemClock;
  // Operations here name members by id; an identifier would find nobody, as for a stranger's card.
  const services = createServices(db, clock, directory, async (_programId, identifiers) => identifiers.map(() => null));
  const staff: Viewer = { ...ANONYMOUS, kind: 'STAFF', subject: 'harness-admin', programId, roles: ['ADMIN', 'AGENT'] };
  await services.programs.publishRules(staff, programId, { currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR' });
  await services.programs.configure(staff, programId, { returnWindowDays: 0, monthlyTransferLimit: 100_000_000 });

  const next = random(profile.seed);
  const pick = <T,>(items: T[]) => items[Math.floor(next() * items.length)]!;
  const openHolds: string[] = [];
  const done: { op: Op; result: unknown }[] = [];
  const acknowledged: Required<Acknowledged> = { purchaseIds: [], entryIds: [], holdIds: [] };
  const rejected: Record<string, number> = {};
  let retries = 0;
  let gaveUp = 0;

  const viewer = serviceViewer('harness');
  const adjust = profile.strategy === 'broken' ? brokenAdjust(db, clock) : (v: Viewer, input: Parameters<Services['adjustments']['adjust']>[1]) => services.adjustments.adjust(v, input);

  const makeOp = (i: number): Op => {
    const roll = next();
    const memberId = pick(members).id;
    const key = `h-${profile.seed}-${i}`;
    if (roll < 0.35) return { kind: 'purchase', key, memberId, externalId: `sale-${i}`, amount: `${10 + Math.floor(next() * 200)}.00` };
    if (roll < 0.55) return { kind: 'adjust', key, memberId, points: next() < 0.8 ? 1 + Math.floor(next() * 100) : -(1 + Math.floor(next() * 50)) };
    if (roll < 0.75) return { kind: 'hold', key, memberId, points: 1 + Math.floor(next() * 60) };
    if (roll < 0.9 && openHolds.length) return { kind: 'settle', key, capture: next() < 0.5 };
    return { kind: 'transfer', key, from: memberId, to: pick(members).id, points: 1 + Math.floor(next() * 40) };
  };

  const execute = async (op: Op, holdId: string | null): Promise<unknown> => {
    switch (op.kind) {
      case 'purchase':
        return services.purchases.record(viewer, {
          idempotencyKey: op.key,
          memberId: op.memberId,
          source: 'harness',
          externalId: op.externalId,
          basket: { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 'SKU', category: 'goods', quantity: 1, amount: op.amount }] },
        });
      case 'adjust':
        return adjust(staff, { idempotencyKey: op.key, memberId: op.memberId, points: op.points, reasonCode: 'CORRECTION', comment: 'harness' });
      case 'hold':
        return services.holds.hold(viewer, { idempotencyKey: op.key, memberId: op.memberId, points: op.points, reference: op.key });
      case 'settle':
        return op.capture ? services.holds.capture(viewer, { idempotencyKey: op.key, holdId: holdId! }) : services.holds.release(viewer, { idempotencyKey: op.key, holdId: holdId! });
      case 'transfer':
        return op.from === op.to ? null : services.transfers.transfer(staff, { idempotencyKey: op.key, fromMemberId: op.from, toMemberId: op.to, points: op.points });
    }
  };

  /** A client: sends, and on a lost connection sends the very same request again. */
  const send = async (op: Op, holdId: string | null) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await execute(op, holdId);
        if (result === null) return;
        done.push({ op, result });
        const r = result as { purchaseId?: string; entryId?: string | null; holdId?: string };
        if (r.purchaseId) acknowledged.purchaseIds.push(r.purchaseId);
        if (r.entryId) acknowledged.entryIds.push(r.entryId);
        if (r.holdId) {
          acknowledged.holdIds.push(r.holdId);
          if (op.kind === 'hold') openHolds.push(r.holdId);
        }
        return;
      } catch (error) {
        // A business answer (userErrors, CONFLICT) is final; anything else is what a client sees
        // as a 5xx, and it retries the very same request.
        const answer = error instanceof DomainError ? error.code : error instanceof GraphQLError ? String(error.extensions['code']) : null;
        if (answer) {
          rejected[answer] = (rejected[answer] ?? 0) + 1;
          return;
        }
        if (attempt >= MAX_CLIENT_RETRIES) {
          gaveUp++;
          return;
        }
        retries++;
        await new Promise((resolve) => setTimeout(resolve, 5 * (attempt + 1)));
      }
    }
  };

  // Chaos: kill a random busy backend of the ledger's database now and then.
  let killed = 0;
  let stopChaos = false;
  const chaos = (async () => {
    if (!profile.chaosEveryMs) return;
    while (!stopChaos) {
      await new Promise((resolve) => setTimeout(resolve, profile.chaosEveryMs!));
      if (stopChaos) break;
      const { rows } = await admin.query(
        `SELECT pg_terminate_backend(pid) AS killed FROM (
           SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')
           ORDER BY random() LIMIT 1) victims`,
        [dbName],
      );
      killed += rows.filter((r: { killed: boolean }) => r.killed).length;
    }
  })();

  const started = Date.now();
  let issued = 0;
  const worker = async () => {
    while (issued < profile.operations) {
      const i = issued++;
      if (done.length && next() < profile.duplicateRate) {
        const earlier = pick(done);
        await send(earlier.op, earlier.op.kind === 'settle' ? ((earlier.result as { holdId: string }).holdId ?? null) : null);
        continue;
      }
      const op = makeOp(i);
      const holdId = op.kind === 'settle' ? openHolds.splice(Math.floor(next() * openHolds.length), 1)[0] ?? null : null;
      if (op.kind === 'settle' && !holdId) continue;
      // A double submit: the same request twice at the same moment (a double click, a proxy retry).
      if (next() < profile.duplicateRate) await Promise.all([send(op, holdId), send(op, holdId)]);
      else await send(op, holdId);
    }
  };
  await Promise.all(Array.from({ length: profile.workers }, worker));
  const seconds = (Date.now() - started) / 1000;
  stopChaos = true;
  await chaos;

  // The audit reads through a connection of its own: a pooled one the chaos terminated just before
  // it stopped may not have heard of its death yet, and would fail the audit's first query.
  const auditor = new pg.Client({ connectionString: url });
  await auditor.connect();
  const violations = await checkInvariants({ query: async (sql, parameters) => (await auditor.query(sql, parameters)).rows }, acknowledged).finally(() => auditor.end());
  return {
    profile: profile.name,
    strategy: profile.strategy,
    operations: profile.operations,
    acknowledged: done.length,
    rejected,
    retries,
    gaveUp,
    backendsKilled: killed,
    seconds: Number(seconds.toFixed(1)),
    operationsPerSecond: Math.round(profile.operations / seconds),
    violations,
  };
}

/**
 * The deliberately broken strategy: the adjustment and its idempotency key are written in two
 * separate transactions, with a check-then-act on the key. Duplicates that race, or a crash
 * between the two, produce a second effect (or an effect with no key) that the audit must flag.
 */
function brokenAdjust(db: DataSource, clock: Clock) {
  return async (viewer: Viewer, input: { idempotencyKey: string; memberId: string; points: number; reasonCode: string; comment: string }) => {
    const programId = (viewer.programId ?? '') as string;
    const [seen] = (await db.query(`SELECT result FROM idempotency_keys WHERE program_id = $1 AND key = $2`, [programId, input.idempotencyKey])) as { result: { entryId: string } }[];
    if (seen) return seen.result;
    const entryId = await db.transaction(async (tx) => {
      const program = await store.programAccounts(tx, programId);
      const accounts = await store.lockMemberAccounts(tx, programId, input.memberId);
      if (input.points < 0 && (await store.available(tx, accounts.reward)) < -input.points) throw new DomainError('INSUFFICIENT_POINTS', 'insufficient points');
      // Everything as the real adjustment does (lines, lots, outbox) except the atomic key claim.
      if (input.points < 0) await lots.consume(tx, accounts.reward, -input.points);
      const id = await store.post(
        tx,
        { programId, kind: 'ADJUSTMENT', memberId: input.memberId, memberAmount: input.points, description: input.comment, reasonCode: input.reasonCode, createdBy: viewer.subject, createdAt: clock.now() },
        adjustmentLines(accounts, program, input.points),
        [{ type: 'PointsAdjusted', payload: { programId, memberId: input.memberId, points: input.points, reasonCode: input.reasonCode } }],
      );
      if (input.points > 0) await lots.credit(tx, accounts.reward, id, clock.now(), [{ points: input.points, expiresAt: null }]);
      return id;
    });
    await db.query(
      `INSERT INTO idempotency_keys (program_id, key, operation, request_hash, result, created_at) VALUES ($1, $2, 'adjustPoints', 'broken', $3, now()) ON CONFLICT DO NOTHING`,
      [programId, input.idempotencyKey, JSON.stringify({ entryId })],
    );
    return { entryId };
  };
}

