import { DomainError, hasScopes, InputError, isStaffOf, type Viewer } from '@loyalty-graph/shared';
import { LIMITS } from './limits';

/**
 * Purchase imports: a large file of purchases sent in numbered chunks, then recorded by a
 * background job. The rules here are plain: who may do what, which status allows which step,
 * how chunks number the file's lines, and the figures of its progress.
 */
export type ImportStatus = 'UPLOADING' | 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

/** How long a finished import keeps its lines (its report stays): time to look at a surprise. */
export const IMPORT_LINES_RETENTION_DAYS = 7;

/** Who owns an import: its program and, for a partner's, the partner (its own source). */
export interface ImportOwner {
  programId: string;
  partnerId: string | null;
}

/**
 * Creating an import: a partner's key with `purchases:write` (into its own source) or the
 * program's administrators (and platform operators), who import under a source they name. Agents
 * record purchases one call at a time; files are an administrator's job.
 */
export function canCreateImport(viewer: Viewer, programId: string): boolean {
  if (viewer.kind === 'PARTNER') return viewer.programId === programId && viewer.partnerId !== null && hasScopes(viewer, ['purchases:write']);
  return isStaffOf(viewer, programId, ['ADMIN']);
}

/**
 * Seeing or touching an import: a partner only its own (another partner's import does not exist
 * for it, exactly like an unknown id), the program's administrators every import of the program.
 */
export function canManageImport(viewer: Viewer, owner: ImportOwner): boolean {
  if (viewer.kind === 'PARTNER') return canCreateImport(viewer, owner.programId) && owner.partnerId === viewer.partnerId;
  return isStaffOf(viewer, owner.programId, ['ADMIN']);
}

/** A chunk's number and size: 1 to importChunks, 1 to importChunkLines lines. */
export function checkChunk(chunkNo: number, lineCount: number): void {
  if (!Number.isInteger(chunkNo) || chunkNo < 1 || chunkNo > LIMITS.importChunks) {
    throw new InputError(`chunkNo must be 1 to ${LIMITS.importChunks.toLocaleString('en-US')}`, 'chunkNo');
  }
  if (lineCount < 1 || lineCount > LIMITS.importChunkLines) throw new InputError(`Give 1 to ${LIMITS.importChunkLines.toLocaleString('en-US')} lines per chunk`, 'lines');
}

/** Chunks are added only while the import is UPLOADING. */
export function assertUploading(status: ImportStatus): void {
  if (status !== 'UPLOADING') throw new DomainError('IMPORT_NOT_UPLOADING', `The import is ${status}: chunks are added only before it starts`, 'importId');
}

/** What may be cancelled: anything not finished. */
export function assertCancellable(status: ImportStatus): void {
  if (status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED') throw new DomainError('IMPORT_FINISHED', `The import is already ${status}`, 'importId');
}

/**
 * The file's line numbers (from 1) of each chunk's first line, checking that the chunks are
 * 1..N without a gap and hold the lines the client says it sent: a lost chunk must be found
 * before anything is recorded, not after.
 */
export function numberChunks(chunks: readonly { chunkNo: number; lineCount: number }[], expectedLines: number): Map<number, number> {
  if (!Number.isInteger(expectedLines) || expectedLines < 1) throw new InputError('expectedLines must be at least 1', 'expectedLines');
  const sorted = [...chunks].sort((a, b) => a.chunkNo - b.chunkNo);
  const missing: number[] = [];
  let next = 1;
  for (const chunk of sorted) {
    for (; next < chunk.chunkNo && missing.length < 10; next++) missing.push(next);
    next = chunk.chunkNo + 1;
  }
  if (sorted.length === 0) throw new DomainError('IMPORT_INCOMPLETE', 'No chunk was added', 'expectedLines');
  if (missing.length) throw new DomainError('IMPORT_INCOMPLETE', `Chunks missing: ${missing.join(', ')}${missing.length === 10 ? '…' : ''}`, 'expectedLines');
  const total = sorted.reduce((sum, c) => sum + c.lineCount, 0);
  if (total !== expectedLines) throw new DomainError('LINE_COUNT_MISMATCH', `The chunks hold ${total} lines, not ${expectedLines}`, 'expectedLines');
  const firstLines = new Map<number, number>();
  let line = 1;
  for (const chunk of sorted) {
    firstLines.set(chunk.chunkNo, line);
    line += chunk.lineCount;
  }
  return firstLines;
}

/** Lines per second from the first claimed chunk to the end (or now while running); null before. */
export function linesPerSecond(processed: number, startedAt: Date | null, finishedAt: Date | null, now: Date): number | null {
  if (!startedAt) return null;
  const ms = (finishedAt ?? now).getTime() - startedAt.getTime();
  if (ms <= 0) return null;
  return Math.round((processed * 1000 * 10) / ms) / 10;
}
