import { selectList } from '@loyalty-graph/shared/db';

export interface CharityRow {
  id: string;
  programId: string;
  name: string;
  createdAt: Date;
  /** Summed from the charity account's lines on read (a bigint, as text): charity accounts keep no balance. */
  donatedPoints: string;
}

export const charityColumns = selectList<CharityRow>({
  id: 'c.id',
  programId: 'c.program_id',
  name: 'c.name',
  createdAt: 'c.created_at',
  donatedPoints: `coalesce((SELECT sum(l.amount) FROM accounts a JOIN journal_lines l ON l.account_id = a.id WHERE a.kind = 'CHARITY' AND a.owner_id = c.id), 0)::text`,
});
