/**
 * Journal entries as plain data. Every entry is a set of lines that sums to zero in each bucket;
 * the builders below are the only shapes the ledger posts, so their balance is unit tested here
 * and enforced again by the database at commit.
 */
export type Bucket = 'POSTED' | 'PENDING' | 'HELD';
export type EntryKind = 'ACCRUAL' | 'POSTING' | 'RETURN' | 'HOLD' | 'CAPTURE' | 'RELEASE' | 'ADJUSTMENT' | 'EXPIRY' | 'REINSTATEMENT' | 'TRANSFER' | 'DONATION' | 'BONUS' | 'REFUND';

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
  breakage: string;
  writeOff: string;
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

/**
 * Give captured points back (a reward order cancelled after it was paid): the mirror of the
 * capture's spend, redemption → member. The capture's HELD lines are not mirrored: the
 * reservation ended with the capture and a refund does not start a new one.
 */
export function refundLines(member: MemberAccounts, program: ProgramAccounts, points: number): Line[] {
  return balanced([
    { accountId: program.redemption, bucket: 'POSTED', amount: -points },
    { accountId: member.reward, bucket: 'POSTED', amount: points },
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

/** A bonus the program grants (a referral): issued like earned points, posted at once, no status points. */
export function bonusLines(member: MemberAccounts, program: ProgramAccounts, points: number): Line[] {
  return balanced([
    { accountId: member.reward, bucket: 'POSTED', amount: points },
    { accountId: program.issuance, bucket: 'POSTED', amount: -points },
  ]);
}

/** Points that reached their expiry date go to breakage. */
export function expiryLines(member: MemberAccounts, program: ProgramAccounts, points: number): Line[] {
  return balanced([
    { accountId: member.reward, bucket: 'POSTED', amount: -points },
    { accountId: program.breakage, bucket: 'POSTED', amount: points },
  ]);
}

/** An agent gives expired points back: the exact reverse of the expiry. */
export function reinstatementLines(member: MemberAccounts, program: ProgramAccounts, points: number): Line[] {
  return balanced([
    { accountId: program.breakage, bucket: 'POSTED', amount: -points },
    { accountId: member.reward, bucket: 'POSTED', amount: points },
  ]);
}

/** Member to member (gifting, household pooling). */
export function transferLines(from: MemberAccounts, to: MemberAccounts, points: number): Line[] {
  return balanced([
    { accountId: from.reward, bucket: 'POSTED', amount: -points },
    { accountId: to.reward, bucket: 'POSTED', amount: points },
  ]);
}

export function donationLines(member: MemberAccounts, charityAccountId: string, points: number): Line[] {
  return balanced([
    { accountId: member.reward, bucket: 'POSTED', amount: -points },
    { accountId: charityAccountId, bucket: 'POSTED', amount: points },
  ]);
}

export interface ReturnSplit {
  /** Reward points taken back from what is still pending. */
  fromPending: number;
  /** Reward points taken back from the member's posted balance. */
  fromPosted: number;
  /** Points the member had already spent that the program absorbs (WRITE_OFF policy). */
  writtenOff: number;
  statusFromPending: number;
  statusFromPosted: number;
}

/**
 * A return gives the purchase's points back to issuance. What the member cannot cover is either
 * taken anyway (their balance goes negative) or written off by the program, per the policy.
 */
export function returnLines(member: MemberAccounts, program: ProgramAccounts, split: ReturnSplit): Line[] {
  const posted = split.fromPosted + split.writtenOff;
  return balanced([
    { accountId: member.reward, bucket: 'PENDING', amount: -split.fromPending },
    { accountId: program.issuance, bucket: 'PENDING', amount: split.fromPending },
    { accountId: member.reward, bucket: 'POSTED', amount: -split.fromPosted },
    { accountId: program.writeOff, bucket: 'POSTED', amount: -split.writtenOff },
    { accountId: program.issuance, bucket: 'POSTED', amount: posted },
    { accountId: member.status, bucket: 'PENDING', amount: -split.statusFromPending },
    { accountId: program.statusIssuance, bucket: 'PENDING', amount: split.statusFromPending },
    { accountId: member.status, bucket: 'POSTED', amount: -split.statusFromPosted },
    { accountId: program.statusIssuance, bucket: 'POSTED', amount: split.statusFromPosted },
  ]);
}
