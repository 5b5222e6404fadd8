import { selectList } from '@loyalty-graph/shared/db';

/** An account: a member's (reward, status) or one the program keeps (issuance, a charity's, …). */
export interface AccountRow {
  id: string;
  programId: string;
  kind: string;
  ownerId: string | null;
}

export const accountColumns = selectList<AccountRow>({ id: 'a.id', programId: 'a.program_id', kind: 'a.kind', ownerId: 'a.owner_id' });

/** A member's points: their reward account (`r`) and status account (`s`) read as one row, from the balances the trigger keeps. */
export interface MemberBalanceRow {
  memberId: string;
  programId: string;
  /** Null for a member who has no accounts yet. */
  rewardAccountId: string | null;
  statusAccountId: string | null;
  posted: number;
  pending: number;
  held: number;
  statusPoints: number;
  lifetimeEarned: number;
}

export const memberBalanceColumns = selectList<MemberBalanceRow>({
  memberId: 'r.owner_id',
  programId: 'r.program_id',
  rewardAccountId: 'r.id',
  statusAccountId: 's.id',
  posted: 'r.posted::int',
  pending: 'r.pending::int',
  held: 'r.held::int',
  statusPoints: 's.posted::int + s.pending::int',
  lifetimeEarned: 'r.lifetime_earned::int',
});
