/**
 * Journal entries as plain data. Every entry is a set of lines that sums to zero in each bucket;
 * the builders below are the only shapes the ledger posts, so their balance is unit tested here
 * and enforced again by the database at commit.
 */
export type Bucket = 'POSTED' | 'PENDING' | 'HELD';
export type EntryKind = 'ACCRUAL' | 'POSTING' | 'RETURN' | 'HOLD' | 'CAPTURE' | 'RELEASE' | 'ADJUSTMENT';

export interface Line {
  accountId: string;
  bucket: Bucket;
  amount: number;
}

export interface MemberAccounts {
  reward: string;
  status: string;
}

export interface ProgramAccounts {
  issuance: string;
  /** The other side of status (tier-qualifying) points, kept apart so "issued" counts reward points. */
  statusIssuance: string;
  redemption: string;
  adjustment: string;
  holds: string;
}

/** Drops zero lines and checks the balance; throws on a bug (never on user input). */
export function balanced(lines: Line[]): Line[] {
  const kept = lines.filter((line) => line.amount !== 0);
  for (const bucket of ['POSTED', 'PENDING', 'HELD'] as const) {
    const sum = kept.filter((l) => l.bucket === bucket).reduce((total, l) => total + l.amount, 0);
    if (sum !== 0) throw new Error(`unbalanced journal entry: ${bucket} sums to ${sum}`);
  }
  for (const line of kept) if (!Number.isSafeInteger(line.amount)) throw new Error(`journal amounts are integers: ${line.amount}`);
  return kept;
}

/** Points earned by a purchase: pending during the return window, posted at once when it is 0. */
export function accrualLines(member: MemberAccounts, program: ProgramAccounts, points: number, statusPoints: number, bucket: 'PENDING' | 'POSTED'): Line[] {
  return balanced([
    { accountId: member.reward, bucket, amount: points },
    { accountId: program.issuance, bucket, amount: -points },
    { accountId: member.status, bucket, amount: statusPoints },
    { accountId: program.statusIssuance, bucket, amount: -statusPoints },
  ]);
}

/** The return window closed: pending points become posted, on both sides. */
export function postingLines(member: MemberAccounts, program: ProgramAccounts, points: number, statusPoints: number): Line[] {
  return balanced([
    { accountId: member.reward, bucket: 'PENDING', amount: -points },
    { accountId: member.reward, bucket: 'POSTED', amount: points },
    { accountId: program.issuance, bucket: 'PENDING', amount: points },
    { accountId: program.issuance, bucket: 'POSTED', amount: -points },
    { accountId: member.status, bucket: 'PENDING', amount: -statusPoints },
    { accountId: member.status, bucket: 'POSTED', amount: statusPoints },
    { accountId: program.statusIssuance, bucket: 'PENDING', amount: statusPoints },
    { accountId: program.statusIssuance, bucket: 'POSTED', amount: -statusPoints },
  ]);
}

/** Reserve points: they stay posted but stop being available. */
export function holdLines(member: MemberAccounts, program: ProgramAccounts, points: number): Line[] {
  return balanced([
    { accountId: member.reward, bucket: 'HELD', amount: points },
    { accountId: program.holds, bucket: 'HELD', amount: -points },
  ]);
}

/** Spend held points: the reservation ends and the points move to redemption. */
export function captureLines(member: MemberAccounts, program: ProgramAccounts, points: number): Line[] {
  return balanced([
    { accountId: member.reward, bucket: 'HELD', amount: -points },
    { accountId: program.holds, bucket: 'HELD', amount: points },
    { accountId: member.reward, bucket: 'POSTED', amount: -points },
    { accountId: program.redemption, bucket: 'POSTED', amount: points },
  ]);
}

export function releaseLines(member: MemberAccounts, program: ProgramAccounts, points: number): Line[] {
  return balanced([
    { accountId: member.reward, bucket: 'HELD', amount: -points },
    { accountId: program.holds, bucket: 'HELD', amount: points },
  ]);
}

/** A manual correction: positive credits the member, negative debits them. */
export function adjustmentLines(member: MemberAccounts, program: ProgramAccounts, points: number): Line[] {
  return balanced([
    { accountId: member.reward, bucket: 'POSTED', amount: points },
    { accountId: program.adjustment, bucket: 'POSTED', amount: -points },
  ]);
}
