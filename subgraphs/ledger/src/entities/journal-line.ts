import { selectList } from '@loyalty-graph/shared/db';

export interface JournalLineRow {
  entryId: string;
  accountId: string;
  bucket: 'POSTED' | 'PENDING' | 'HELD';
  amount: number;
}

export const lineColumns = selectList<JournalLineRow>({ entryId: 'l.entry_id', accountId: 'l.account_id', bucket: 'l.bucket', amount: 'l.amount::int' });
