import { randomUUID } from 'node:crypto';
import { conflict, decodeCursor, DomainError, encodeCursor, forbidden, InputError, pageSize, type Clock, type Connection, type PageArgs, type UserError, type Viewer } from '@loyalty-graph/shared';
import { requestHash, returning, withRetries, isConnectionLoss } from '@loyalty-graph/shared/db';
import type { MemberDirectory, MemberSnapshot } from '@loyalty-graph/shared/member-snapshots';
import { isPeerUnavailable } from '@loyalty-graph/shared/subgraph';
import type { DataSource, EntityManager } from 'typeorm';
import { validateBasket } from '../domain/earning';
import {
  assertCancellable,
  assertUploading,
  canCreateImport,
  canManageImport,
  checkChunk,
  IMPORT_LINES_RETENTION_DAYS,
  linesPerSecond,
  numberChunks,
  type ImportStatus,
} from '../domain/imports';
import { bulkSource, checkMemberChoice } from '../domain/ingestion';
import { LIMITS } from '../domain/limits';
import { canImportPurchaseHistory } from '../domain/policy';
import { checkPurchaseDate } from '../domain/purchase-date';
import { assertActive } from './members';
import type { ProgramConfig } from './program-ledger';
import { ruleSetInForce } from './program-ledger';
import { RECORD_PURCHASE, refusalOf, type LineOutcome, type PreparedLine } from './purchase-batch';
import type { PurchaseService, RecordPurchaseLine } from './purchases';

export interface PurchaseImportRow {
  id: string;
  programId: string;
  partnerId: string | null;
  source: string;
  dryRun: boolean;
  status: ImportStatus;
  expectedLines: number | null;
  totalLines: number;
  processedLines: number;
  recorded: number;
  alreadyRecorded: number;
  rejected: number;
  failure: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  linesPurgedAt: Date | null;
}

export interface ImportRejection {
  lineNumber: number;
  transactionId: string;
  code: string;
  field: string | null;
  message: string;
}

const IMPORT_COLUMNS = `id, program_id AS "programId", partner_id AS "partnerId", source, dry_run AS "dryRun", status, expected_lines AS "expectedLines",
  total_lines AS "totalLines", processed_lines AS "processedLines", recorded, already_recorded AS "alreadyRecorded", rejected, failure,
  created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt", lines_purged_at AS "linesPurgedAt"`;

/**
 * How long a runner keeps a chunk it claimed before another may take it over (it crashed, or
 * members was unreachable). A chunk is recorded in one transaction, so a takeover never records
 * a line twice: the chunk row's lock and its processed_at decide, and the keys would anyway.
 */
export const CHUNK_LEASE_MS = 60_000;
/** Chunks one runner records at once: one prepares (members, snapshots) while the other writes. */
const IMPORT_CONCURRENCY = 2;
/** One job run stops taking chunks after this long (the scheduler's lease is longer). */
const RUN_BUDGET_MS = 30_000;
/**
 * Errors of ours one chunk may meet before its import is FAILED (a bug or bad data would otherwise
 * be retried forever). Members being unreachable does not count: that chunk just waits.
 */
const MAX_CHUNK_ATTEMPTS = 5;

/** A stored line: RecordPurchaseLineInput as JSON (occurredAt an ISO string). */
type StoredImportLine = Omit<RecordPurchaseLine, 'occurredAt'> & { occurredAt?: string | null };

/**
 * Large files of purchases: created, filled chunk by chunk (idempotent per chunk number), started,
 * then recorded by the `record-purchase-imports` job in chunks, each chunk's purchases, rejections
 * and progress in one transaction, through the same batched path as recordPurchases.
 */
export class PurchaseImportService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly directory: MemberDirectory,
    private readonly purchases: PurchaseService,
  ) {}

  async create(viewer: Viewer, input: { idempotencyKey: string; programId?: string | null; source?: string | null; dryRun?: boolean | null }): Promise<PurchaseImportRow> {
    const programId = viewer.kind === 'PARTNER' ? viewer.programId : (input.programId ?? viewer.programId);
    if (!programId) throw new InputError('Platform operators name the programId', 'programId');
    if (viewer.kind === 'PARTNER' && input.programId != null && input.programId !== viewer.programId) throw forbidden('A partner imports only into its own program');
    if (viewer.kind === 'PARTNER' && input.source != null) throw new InputError('A partner’s purchases come from its own source: leave source out', 'source');
    if (!canCreateImport(viewer, programId)) throw forbidden('Only a partner’s key with purchases:write or the program’s administrators import purchases');
    const source = bulkSource(viewer, input.source);
    const dryRun = input.dryRun ?? false;
    const hash = requestHash('createPurchaseImport', { source, dryRun });
    const now = this.clock.now();
    const viewerJson: Viewer = { kind: viewer.kind, subject: viewer.subject, programId: viewer.programId, memberId: null, partnerId: viewer.partnerId, roles: viewer.roles, scopes: viewer.scopes };
    const [created] = (await this.db.query(
      `INSERT INTO purchase_imports (id, program_id, partner_id, source, idempotency_key, request_hash, dry_run, status, viewer, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'UPLOADING', $8, $9, $10) ON CONFLICT ON CONSTRAINT purchase_imports_key DO NOTHING RETURNING id`,
      [randomUUID(), programId, viewer.kind === 'PARTNER' ? viewer.partnerId : null, source, input.idempotencyKey, hash, dryRun, JSON.stringify(viewerJson), viewer.subject ?? 'unknown', now],
    )) as { id: string }[];
    if (created) return (await this.row(created.id))!;
    // The same key again: the same import if it is the same request (and the caller's), else a conflict.
    const [previous] = (await this.db.query(`SELECT id, request_hash AS hash, partner_id AS "partnerId" FROM purchase_imports WHERE program_id = $1 AND idempotency_key = $2`, [
      programId,
      input.idempotencyKey,
    ])) as { id: string; hash: string; partnerId: string | null }[];
    if (!previous || previous.hash !== hash || previous.partnerId !== (viewer.kind === 'PARTNER' ? viewer.partnerId : null)) {
      throw conflict(`idempotencyKey ${input.idempotencyKey} was already used for a different request`);
    }
    return (await this.row(previous.id))!;
  }

  /**
   * One numbered chunk of the file. The same chunk again (same number, same lines) is accepted
   * once, so a client that lost the answer simply sends it again; other lines under a number
   * already used are a CONFLICT.
   */
  async addChunk(viewer: Viewer, input: { importId: string; chunkNo: number; lines: RecordPurchaseLine[] }): Promise<{ import: PurchaseImportRow; lineCount: number }> {
    checkChunk(input.chunkNo, input.lines.length);
    const imp = await this.owned(viewer, input.importId);
    const stored: StoredImportLine[] = input.lines.map((line) => ({ ...line, occurredAt: line.occurredAt ? line.occurredAt.toISOString() : (line.occurredAt ?? null) }));
    const hash = requestHash('purchaseImportChunk', stored);
    const same = async () => {
      const [existing] = (await this.db.query(`SELECT content_hash AS hash FROM purchase_import_chunks WHERE import_id = $1 AND chunk_no = $2`, [imp.id, input.chunkNo])) as { hash: string }[];
      if (!existing) return false;
      if (existing.hash !== hash) throw conflict(`Chunk ${input.chunkNo} was already added with other lines`);
      return true;
    };
    if (await same()) return { import: (await this.row(imp.id))!, lineCount: input.lines.length };
    assertUploading(imp.status);
    await this.db.transaction(async (tx) => {
      // Under the import's lock: a chunk never slips in after the import started.
      const [locked] = (await tx.query(`SELECT status FROM purchase_imports WHERE id = $1 FOR UPDATE`, [imp.id])) as { status: ImportStatus }[];
      assertUploading(locked!.status);
      await tx.query(
        `INSERT INTO purchase_import_chunks (import_id, chunk_no, content_hash, line_count, lines) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [imp.id, input.chunkNo, hash, input.lines.length, JSON.stringify(stored)],
      );
    });
    // Two identical uploads at once: one inserted, the other finds it (a different one: CONFLICT).
    await same();
    return { import: (await this.row(imp.id))!, lineCount: input.lines.length };
  }

  /**
   * Queues the import once every chunk 1..N is there and they hold `expectedLines` lines. Transaction
   * ids given twice in the file are refused here, once, for the whole file: the first line keeps it.
   * Starting again is answered with the import as it stands.
   */
  async start(viewer: Viewer, input: { importId: string; expectedLines: number }): Promise<PurchaseImportRow> {
    const imp = await this.owned(viewer, input.importId);
    if (imp.status !== 'UPLOADING') {
      if (imp.status !== 'CANCELLED' && imp.expectedLines === input.expectedLines) return imp;
      throw new DomainError('IMPORT_NOT_UPLOADING', `The import is already ${imp.status}`, 'importId');
    }
    await this.db.transaction(async (tx) => {
      const [locked] = (await tx.query(`SELECT status FROM purchase_imports WHERE id = $1 FOR UPDATE`, [imp.id])) as { status: ImportStatus }[];
      assertUploading(locked!.status);
      const chunks = (await tx.query(`SELECT chunk_no AS "chunkNo", line_count AS "lineCount" FROM purchase_import_chunks WHERE import_id = $1`, [imp.id])) as { chunkNo: number; lineCount: number }[];
      const firstLines = numberChunks(chunks, input.expectedLines);
      await tx.query(`UPDATE purchase_import_chunks c SET first_line = t.first FROM unnest($2::int[], $3::int[]) AS t(no, first) WHERE c.import_id = $1 AND c.chunk_no = t.no`, [
        imp.id,
        [...firstLines.keys()],
        [...firstLines.values()],
      ]);
      // Every later line with a transaction id an earlier line of the file has: one statement.
      await tx.query(
        `INSERT INTO purchase_import_rejections (import_id, line_no, transaction_id, code, field, message)
         SELECT $1, line_no, tx_id, 'DUPLICATE_TRANSACTION_ID', 'transactionId', 'Line ' || first_no || ' of this file has the same transaction id'
         FROM (
           SELECT c.first_line + e.n::int - 1 AS line_no, e.line->>'transactionId' AS tx_id,
                  min(c.first_line + e.n::int - 1) OVER (PARTITION BY e.line->>'transactionId') AS first_no
           FROM purchase_import_chunks c, jsonb_array_elements(c.lines) WITH ORDINALITY AS e(line, n)
           WHERE c.import_id = $1
         ) lines WHERE line_no > first_no`,
        [imp.id],
      );
      await tx.query(`UPDATE purchase_imports SET status = 'QUEUED', expected_lines = $2, total_lines = $2, queued_at = $3 WHERE id = $1`, [imp.id, input.expectedLines, this.clock.now()]);
    });
    return (await this.row(imp.id))!;
  }

  /** Stops an import: chunks recorded before stay recorded (each its own transaction); no further chunk is. */
  async cancel(viewer: Viewer, importId: string): Promise<PurchaseImportRow> {
    const imp = await this.owned(viewer, importId);
    assertCancellable(imp.status);
    const [row] = await returning<{ id: string }>(
      this.db,
      `UPDATE purchase_imports SET status = 'CANCELLED', finished_at = $2 WHERE id = $1 AND status IN ('UPLOADING', 'QUEUED', 'RUNNING') RETURNING id`,
      [imp.id, this.clock.now()],
    );
    if (!row) assertCancellable((await this.row(imp.id))!.status);
    return (await this.row(imp.id))!;
  }

  /** An import the viewer may see; null for one that does not exist or is not theirs. */
  async get(viewer: Viewer, id: string): Promise<PurchaseImportRow | null> {
    if (!UUID.test(id)) return null;
    const imp = await this.row(id);
    return imp && canManageImport(viewer, imp) ? imp : null;
  }

  progress(imp: PurchaseImportRow) {
    return {
      total: imp.totalLines,
      processed: imp.processedLines,
      recorded: imp.recorded,
      alreadyRecorded: imp.alreadyRecorded,
      rejected: imp.rejected,
      linesPerSecond: linesPerSecond(imp.processedLines, imp.startedAt, imp.finishedAt, this.clock.now()),
      startedAt: imp.startedAt,
      finishedAt: imp.finishedAt,
    };
  }

  /** The report: refused lines in file order (a keyset on the line number). */
  async rejections(importId: string, page: PageArgs): Promise<Connection<ImportRejection>> {
    const first = pageSize(page.first);
    const after = decodeCursor(page.after, 1);
    const afterLine = after ? Number(after[0]) : 0;
    if (!Number.isInteger(afterLine) || afterLine < 0) throw new InputError('after is not a cursor this list produced', 'after');
    const rows = (await this.db.query(
      `SELECT line_no AS "lineNumber", transaction_id AS "transactionId", code, field, message FROM purchase_import_rejections
       WHERE import_id = $1 AND line_no > $2 ORDER BY line_no LIMIT $3`,
      [importId, afterLine, first + 1],
    )) as ImportRejection[];
    const nodes = rows.slice(0, first);
    const edges = nodes.map((node) => ({ cursor: encodeCursor([node.lineNumber]), node }));
    return { edges, nodes, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  /**
   * The job: claims chunks (a lease, so runners on several replicas share the file) and records
   * them until none is left or the run's budget is spent; then drops the lines of imports finished
   * more than the retention ago. Returns the lines it processed.
   */
  async work(budgetMs = RUN_BUDGET_MS): Promise<number> {
    const until = Date.now() + budgetMs;
    let processed = 0;
    let failure: unknown = null;
    const runner = async () => {
      while (Date.now() < until && !failure) {
        const chunk = await this.claim();
        if (!chunk) return;
        try {
          processed += await this.processChunk(chunk);
        } catch (error) {
          // The chunk wrote nothing: it is released for a later run, or its import fails after
          // MAX_CHUNK_ATTEMPTS errors of ours. The run stops and reports the error.
          await this.release(chunk, error);
          failure = error;
        }
      }
    };
    await Promise.all(Array.from({ length: IMPORT_CONCURRENCY }, runner));
    await this.purge();
    if (failure) throw failure;
    return processed;
  }

  private async release(chunk: ClaimedChunk, error: unknown): Promise<void> {
    if (isPeerUnavailable(error)) {
      await this.db.query(`UPDATE purchase_import_chunks SET leased_until = NULL, attempts = attempts - 1 WHERE import_id = $1 AND chunk_no = $2`, [chunk.importId, chunk.chunkNo]);
      return;
    }
    await this.db.query(`UPDATE purchase_import_chunks SET leased_until = NULL WHERE import_id = $1 AND chunk_no = $2`, [chunk.importId, chunk.chunkNo]);
    if (chunk.attempts >= MAX_CHUNK_ATTEMPTS) {
      const message = `Chunk ${chunk.chunkNo} failed ${chunk.attempts} times: ${error instanceof Error ? error.message : String(error)}`.slice(0, 1000);
      await this.db.query(`UPDATE purchase_imports SET status = 'FAILED', failure = $2, finished_at = $3 WHERE id = $1 AND status IN ('QUEUED', 'RUNNING')`, [chunk.importId, message, this.clock.now()]);
    }
  }

  private async claim(): Promise<ClaimedChunk | null> {
    const now = this.clock.now();
    const [chunk] = await returning<ClaimedChunk>(
      this.db,
      `UPDATE purchase_import_chunks c SET leased_until = $2, attempts = c.attempts + 1
       FROM (SELECT c2.import_id, c2.chunk_no FROM purchase_import_chunks c2 JOIN purchase_imports i ON i.id = c2.import_id
             WHERE i.status IN ('QUEUED', 'RUNNING') AND c2.processed_at IS NULL AND (c2.leased_until IS NULL OR c2.leased_until <= $1)
             ORDER BY i.queued_at, c2.import_id, c2.chunk_no LIMIT 1 FOR UPDATE OF c2 SKIP LOCKED) t
       WHERE c.import_id = t.import_id AND c.chunk_no = t.chunk_no
       RETURNING c.import_id AS "importId", c.chunk_no AS "chunkNo", c.first_line AS "firstLine", c.line_count AS "lineCount", c.attempts, c.lines`,
      [now, new Date(now.getTime() + CHUNK_LEASE_MS)],
    );
    if (!chunk) return null;
    await this.db.query(`UPDATE purchase_imports SET status = 'RUNNING', started_at = coalesce(started_at, $2) WHERE id = $1 AND status = 'QUEUED'`, [chunk.importId, now]);
    return chunk;
  }

  /**
   * One chunk: everything that needs no transaction first (checks without I/O, members by
   * identifier, snapshots, program config), then one transaction that re-checks the chunk is
   * still to do (locking it), records or (dry run) judges its lines, and commits the chunk's
   * rejections and the import's progress with them.
   */
  private async processChunk(chunk: ClaimedChunk): Promise<number> {
    const imp = (await this.row(chunk.importId))!;
    const viewer = (await this.viewerOf(imp.id))!;
    // A line without a date is stored as null and read back as absent, as recordPurchases gets it
    // from GraphQL: the same purchase hashes the same however it came (its key replays it).
    const lines = (chunk.lines ?? []).map(({ occurredAt, ...l }) => (occurredAt ? { ...l, occurredAt: new Date(occurredAt) } : l)) as RecordPurchaseLine[];
    const lineNo = (i: number) => chunk.firstLine + i;
    const outcomes = new Map<number, LineOutcome>();
    const refuse = (i: number, error: UserError) => outcomes.set(i, { status: 'REJECTED', purchaseId: null, error });

    // Lines refused at start (a transaction id an earlier line of the file has).
    const duplicates = (await this.db.query(`SELECT line_no AS "lineNo" FROM purchase_import_rejections WHERE import_id = $1 AND line_no BETWEEN $2 AND $3`, [
      imp.id,
      lineNo(0),
      lineNo(lines.length - 1),
    ])) as { lineNo: number }[];
    const preRejected = new Set(duplicates.map((d) => d.lineNo - chunk.firstLine));

    // Members unreachable, or the database: this throws, nothing of the chunk was written, and
    // `work` releases it.
    const prepared: PreparedLine[] = [];
    const choices = lines.map((line, i) => {
      if (preRejected.has(i)) return null;
      try {
        if (!line.transactionId || line.transactionId.length > LIMITS.externalIdLength) {
          throw new DomainError('INVALID_EXTERNAL_ID', `transactionId must be 1 to ${LIMITS.externalIdLength} characters`, 'transactionId');
        }
        validateBasket(line.basket);
        return checkMemberChoice(line);
      } catch (error) {
        refuse(i, refusalOrThrow(error));
        return null;
      }
    });
    const memberIds = choices.map((c) => (c && 'memberId' in c ? c.memberId : null));
    const byIdentifier = choices.flatMap((c, i) => (c && 'identifier' in c ? [{ i, identifier: c.identifier }] : []));
    if (byIdentifier.length) {
      const found = await this.purchases.identifyIn(imp.programId, byIdentifier.map((l) => l.identifier));
      byIdentifier.forEach(({ i }, n) => {
        if (found[n]) memberIds[i] = found[n];
        else refuse(i, { code: 'MEMBER_NOT_FOUND', field: 'member', message: 'No such member' });
      });
    }
    const todo = lines.map((_, i) => i).filter((i) => choices[i] && !outcomes.has(i));
    const snapshots = new Map<string, MemberSnapshot>();
    for (const s of await this.directory([...new Set(todo.map((i) => memberIds[i]!))])) if (s) snapshots.set(s.id, s);
    for (const i of todo) {
      try {
        const field = choices[i] && 'identifier' in choices[i] ? 'member' : 'memberId';
        prepared.push(this.purchases.prepareLine(viewer, imp.source, i, lines[i]!, snapshots.get(memberIds[i]!) ?? null, field));
      } catch (error) {
        refuse(i, refusalOrThrow(error));
      }
    }
    const configs = await this.purchases.configsFor(prepared);

    return withRetries(
      () =>
        this.db.transaction(async (tx) => {
          const [todo] = (await tx.query(`SELECT 1 FROM purchase_import_chunks WHERE import_id = $1 AND chunk_no = $2 AND processed_at IS NULL FOR UPDATE`, [chunk.importId, chunk.chunkNo])) as unknown[];
          if (!todo) return 0; // another runner took it over and finished it
          const results = new Map(outcomes);
          const judged = imp.dryRun ? await this.judge(tx, viewer, configs, prepared) : await this.purchases.batches.record(tx, viewer, configs, prepared);
          for (const [i, outcome] of judged) results.set(i, outcome);
          for (const i of preRejected) results.delete(i);
          const rejections = [...results].filter(([, o]) => o.status === 'REJECTED');
          if (rejections.length) {
            await tx.query(
              `INSERT INTO purchase_import_rejections (import_id, line_no, transaction_id, code, field, message)
               SELECT $1, line_no, tx, code, field, message FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(line_no, tx, code, field, message)
               ON CONFLICT DO NOTHING`,
              [
                imp.id,
                rejections.map(([i]) => lineNo(i)),
                rejections.map(([i]) => (lines[i]!.transactionId ?? '').slice(0, LIMITS.externalIdLength)),
                rejections.map(([, o]) => o.error!.code),
                // Fields as the line names them (the purchase's externalId is the line's transactionId).
                rejections.map(([, o]) => (o.error!.field === 'externalId' ? 'transactionId' : o.error!.field)),
                rejections.map(([, o]) => o.error!.message),
              ],
            );
          }
          const count = (status: string) => [...results.values()].filter((o) => o.status === status).length;
          const now = this.clock.now();
          await tx.query(`UPDATE purchase_import_chunks SET processed_at = $3, leased_until = NULL WHERE import_id = $1 AND chunk_no = $2`, [chunk.importId, chunk.chunkNo, now]);
          // The progress commits with the chunk. A cancelled import takes nothing more: the whole
          // chunk rolls back (its lines stay unrecorded).
          const [updated] = await returning<{ id: string }>(
            tx,
            `UPDATE purchase_imports SET processed_lines = processed_lines + $2, recorded = recorded + $3, already_recorded = already_recorded + $4, rejected = rejected + $5,
               status = CASE WHEN processed_lines + $2 >= total_lines THEN 'COMPLETED' ELSE 'RUNNING' END,
               started_at = coalesce(started_at, $6), finished_at = CASE WHEN processed_lines + $2 >= total_lines THEN $6 END
             WHERE id = $1 AND status IN ('QUEUED', 'RUNNING') RETURNING id`,
            [imp.id, lines.length, count('RECORDED'), count('ALREADY_RECORDED'), count('REJECTED') + preRejected.size, now],
          );
          if (!updated) throw new ImportStopped();
          return lines.length;
        }),
      isConnectionLoss,
    ).catch((error: unknown) => {
      if (error instanceof ImportStopped) return 0;
      throw error;
    });
  }

  /**
   * A dry run's verdict on prepared lines, with nothing written: what the real run would say
   * (already recorded, with other content, member not active, too old, no rules in force).
   */
  private async judge(tx: EntityManager, viewer: Viewer, configs: Map<string, ProgramConfig>, lines: PreparedLine[]): Promise<Map<number, LineOutcome>> {
    const outcomes = new Map<number, LineOutcome>();
    if (!lines.length) return outcomes;
    const programId = lines[0]!.member.programId;
    const previous = (await tx.query(`SELECT key, operation, request_hash AS hash, result FROM idempotency_keys WHERE program_id = $1 AND key = ANY($2::text[])`, [
      programId,
      lines.map((l) => l.key),
    ])) as { key: string; operation: string; hash: string; result: { purchaseId?: string } | null }[];
    const byKey = new Map(previous.map((p) => [p.key, p]));
    const now = this.clock.now();
    for (const line of lines) {
      const row = byKey.get(line.key);
      if (row) {
        if (row.operation === RECORD_PURCHASE && row.hash === requestHash(RECORD_PURCHASE, line.request) && row.result?.purchaseId) {
          outcomes.set(line.index, { status: 'ALREADY_RECORDED', purchaseId: row.result.purchaseId, error: null });
        } else {
          outcomes.set(line.index, { status: 'REJECTED', purchaseId: null, error: { code: 'PURCHASE_ALREADY_RECORDED', field: 'transactionId', message: `Transaction ${line.request.externalId} is already recorded with different content (member, date or basket)` } });
        }
        continue;
      }
      try {
        const config = configs.get(line.member.programId)!;
        const occurredAt = line.request.occurredAt ?? now;
        assertActive(line.member);
        checkPurchaseDate(occurredAt, now, config.settings.purchaseMaxAgeDays, canImportPurchaseHistory(viewer, line.member.programId));
        if (!ruleSetInForce(config.ruleSets, occurredAt)) throw new DomainError('NO_EARNING_RULES', 'The program has no earning rules in force yet', 'programId');
        // "Would be recorded": no purchase id, since nothing is.
        outcomes.set(line.index, { status: 'RECORDED', purchaseId: '', error: null });
      } catch (error) {
        outcomes.set(line.index, { status: 'REJECTED', purchaseId: null, error: refusalOrThrow(error) });
      }
    }
    return outcomes;
  }

  /** Lines of imports finished more than the retention ago are dropped; the import and its report stay. */
  private async purge(): Promise<void> {
    const before = new Date(this.clock.now().getTime() - IMPORT_LINES_RETENTION_DAYS * 86_400_000);
    const done = await returning<{ id: string }>(
      this.db,
      `UPDATE purchase_imports SET lines_purged_at = $2 WHERE id IN (
         SELECT id FROM purchase_imports WHERE lines_purged_at IS NULL AND finished_at IS NOT NULL AND finished_at < $1 LIMIT 100 FOR UPDATE SKIP LOCKED
       ) RETURNING id`,
      [before, this.clock.now()],
    );
    if (done.length) await this.db.query(`DELETE FROM purchase_import_chunks WHERE import_id = ANY($1::uuid[])`, [done.map((d) => d.id)]);
  }

  private async owned(viewer: Viewer, importId: string): Promise<PurchaseImportRow> {
    const imp = await this.get(viewer, importId);
    if (!imp) throw new DomainError('IMPORT_NOT_FOUND', 'No such import', 'importId');
    return imp;
  }

  private async row(id: string): Promise<PurchaseImportRow | null> {
    const [row] = (await this.db.query(`SELECT ${IMPORT_COLUMNS} FROM purchase_imports WHERE id = $1`, [id])) as PurchaseImportRow[];
    return row ?? null;
  }

  private async viewerOf(id: string): Promise<Viewer | null> {
    const [row] = (await this.db.query(`SELECT viewer FROM purchase_imports WHERE id = $1`, [id])) as { viewer: Viewer }[];
    return row?.viewer ?? null;
  }
}

interface ClaimedChunk {
  importId: string;
  chunkNo: number;
  firstLine: number;
  lineCount: number;
  attempts: number;
  lines: StoredImportLine[] | null;
}

/** The import was cancelled while a chunk was being recorded: that chunk rolls back. */
class ImportStopped extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function refusalOrThrow(error: unknown): UserError {
  const refusal = refusalOf(error);
  if (!refusal) throw error;
  return refusal;
}
