import { describe, expect, it } from 'vitest';
import { selectList } from './select-list';

interface EntryRow {
  id: string;
  programId: string;
  memberAmount: number | null;
}

const columns = selectList<EntryRow>({ id: 'e.id', programId: 'e.program_id', memberAmount: 'e.member_amount::int' });

describe('selectList', () => {
  it('aliases every expression to its field, in declaration order', () => {
    expect(`SELECT ${columns} FROM journal_entries e`).toBe('SELECT e.id AS "id", e.program_id AS "programId", e.member_amount::int AS "memberAmount" FROM journal_entries e');
  });

  it('reads some fields from other expressions without touching the original', () => {
    expect(String(columns.with({ memberAmount: 'mine.amount::int' }))).toBe('e.id AS "id", e.program_id AS "programId", mine.amount::int AS "memberAmount"');
    expect(String(columns)).toContain('e.member_amount::int AS "memberAmount"');
  });

  it('leaves fields out', () => {
    expect(String(columns.omit('programId', 'memberAmount'))).toBe('e.id AS "id"');
  });

  it('fails the type-check when a column is missing or the row has no such field', () => {
    // @ts-expect-error memberAmount is missing
    selectList<EntryRow>({ id: 'e.id', programId: 'e.program_id' });
    // @ts-expect-error the row has no kind
    selectList<EntryRow>({ id: 'e.id', programId: 'e.program_id', memberAmount: 'e.member_amount', kind: 'e.kind' });
    // @ts-expect-error overrides name fields of the row only
    columns.with({ kind: 'e.kind' });
  });
});
