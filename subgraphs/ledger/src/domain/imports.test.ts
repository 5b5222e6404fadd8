import { ANONYMOUS, DomainError, InputError, type Viewer } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { canCreateImport, canManageImport, checkChunk, linesPerSecond, numberChunks } from './imports';

const programId = 'p-1';
const partner = (partnerId: string, scopes = ['purchases:write'], program = programId): Viewer => ({ ...ANONYMOUS, kind: 'PARTNER', programId: program, partnerId, scopes, subject: 'client' });
const staff = (roles: Viewer['roles'], program: string | null = programId): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId: program, roles, subject: 'staff' });

describe('who imports', () => {
  it('a partner key with purchases:write in its program, the program’s admins and operators; not agents, members or other scopes', () => {
    expect(canCreateImport(partner('a'), programId)).toBe(true);
    expect(canCreateImport(partner('a', ['settlement:read']), programId)).toBe(false);
    expect(canCreateImport(partner('a', ['purchases:write'], 'p-2'), programId)).toBe(false);
    expect(canCreateImport(staff(['ADMIN']), programId)).toBe(true);
    expect(canCreateImport(staff(['ADMIN'], null), programId)).toBe(true);
    expect(canCreateImport(staff(['AGENT']), programId)).toBe(false);
    expect(canCreateImport(staff(['ADMIN'], 'p-2'), programId)).toBe(false);
    expect(canCreateImport({ ...ANONYMOUS, kind: 'MEMBER', programId, memberId: 'm', subject: 'm' }, programId)).toBe(false);
  });

  it('a partner manages only its own imports; the program’s admins all of the program’s', () => {
    expect(canManageImport(partner('a'), { programId, partnerId: 'a' })).toBe(true);
    expect(canManageImport(partner('b'), { programId, partnerId: 'a' })).toBe(false);
    expect(canManageImport(partner('a'), { programId, partnerId: null })).toBe(false);
    expect(canManageImport(staff(['ADMIN']), { programId, partnerId: 'a' })).toBe(true);
    expect(canManageImport(staff(['ADMIN'], 'p-2'), { programId, partnerId: 'a' })).toBe(false);
  });
});

describe('chunks', () => {
  it('are numbered 1 to 1,000 and hold 1 to 1,000 lines', () => {
    expect(() => checkChunk(1, 1_000)).not.toThrow();
    expect(() => checkChunk(0, 1)).toThrow(InputError);
    expect(() => checkChunk(1_001, 1)).toThrow(InputError);
    expect(() => checkChunk(1.5, 1)).toThrow(InputError);
    expect(() => checkChunk(1, 0)).toThrow(InputError);
    expect(() => checkChunk(1, 1_001)).toThrow(InputError);
  });

  it('number the file’s lines in chunk order, whatever order they came in', () => {
    expect([...numberChunks([{ chunkNo: 2, lineCount: 3 }, { chunkNo: 1, lineCount: 1_000 }, { chunkNo: 3, lineCount: 1 }], 1_004)]).toEqual([
      [1, 1],
      [2, 1_001],
      [3, 1_004],
    ]);
  });

  it('must be 1..N without a gap and hold the lines announced', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error instanceof DomainError ? error.code : 'other';
      }
      return null;
    };
    expect(code(() => numberChunks([{ chunkNo: 1, lineCount: 2 }, { chunkNo: 3, lineCount: 2 }], 4))).toBe('IMPORT_INCOMPLETE');
    expect(code(() => numberChunks([{ chunkNo: 2, lineCount: 2 }], 2))).toBe('IMPORT_INCOMPLETE');
    expect(code(() => numberChunks([], 2))).toBe('IMPORT_INCOMPLETE');
    expect(code(() => numberChunks([{ chunkNo: 1, lineCount: 2 }], 3))).toBe('LINE_COUNT_MISMATCH');
    expect(() => numberChunks([{ chunkNo: 1, lineCount: 2 }], 0)).toThrow(InputError);
  });
});

describe('progress', () => {
  it('lines per second from the first chunk to the end, or to now while running', () => {
    const start = new Date('2026-01-01T00:00:00Z');
    expect(linesPerSecond(5_000, start, new Date('2026-01-01T00:00:04Z'), new Date('2026-01-02T00:00:00Z'))).toBe(1_250);
    expect(linesPerSecond(1_000, start, null, new Date('2026-01-01T00:00:02Z'))).toBe(500);
    expect(linesPerSecond(0, null, null, start)).toBeNull();
    expect(linesPerSecond(10, start, start, start)).toBeNull();
  });
});
