import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accrualLines,
  adjustmentLines,
  balanced,
  captureLines,
  donationLines,
  expiryLines,
  holdLines,
  postingLines,
  refundLines,
  reinstatementLines,
  releaseLines,
  returnLines,
  transferLines,
  type Bucket,
  type Line,
  type MemberAccounts,
  type ProgramAccounts,
  type ReturnSplit,
} from './journal';

const BUCKETS: Bucket[] = ['POSTED', 'PENDING', 'HELD'];

const program: ProgramAccounts = {
  issuance: 'issuance',
  statusIssuance: 'status-issuance',
  redemption: 'redemption',
  adjustment: 'adjustment',
  holds: 'holds',
  breakage: 'breakage',
  writeOff: 'write-off',
};
const memberAccounts = (id: string): MemberAccounts => ({ reward: `${id}:reward`, status: `${id}:status` });
const m1 = memberAccounts('m1');

function bucketSums(lines: Line[]): Record<Bucket, number> {
  const sums: Record<Bucket, number> = { POSTED: 0, PENDING: 0, HELD: 0 };
  for (const line of lines) sums[line.bucket] += line.amount;
  return sums;
}

/** The net effect of an entry on one account, bucket by bucket. */
function effect(lines: Line[], accountId: string): Record<Bucket, number> {
  return bucketSums(lines.filter((line) => line.accountId === accountId));
}

describe('balanced', () => {
  it('keeps a balanced entry and drops its zero lines', () => {
    const lines: Line[] = [
      { accountId: 'a', bucket: 'POSTED', amount: 5 },
      { accountId: 'b', bucket: 'POSTED', amount: -5 },
      { accountId: 'c', bucket: 'HELD', amount: 0 },
      { accountId: 'd', bucket: 'PENDING', amount: -0 },
    ];
    expect(balanced(lines)).toEqual(lines.slice(0, 2));
  });

  it('throws when any bucket does not sum to zero, naming the bucket', () => {
    expect(() => balanced([{ accountId: 'a', bucket: 'POSTED', amount: 5 }])).toThrow(/POSTED sums to 5/);
    expect(() =>
      balanced([
        { accountId: 'a', bucket: 'POSTED', amount: 5 },
        { accountId: 'b', bucket: 'PENDING', amount: -5 },
      ]),
    ).toThrow(/unbalanced/);
    expect(() =>
      balanced([
        { accountId: 'a', bucket: 'HELD', amount: 3 },
        { accountId: 'b', bucket: 'HELD', amount: -2 },
      ]),
    ).toThrow(/HELD sums to 1/);
  });

  it('throws on fractional, non-finite or unsafe amounts even when they balance', () => {
    const pair = (amount: number): Line[] => [
      { accountId: 'a', bucket: 'POSTED', amount },
      { accountId: 'b', bucket: 'POSTED', amount: -amount },
    ];
    expect(() => balanced(pair(0.5))).toThrow(/integers/);
    expect(() => balanced(pair(2 ** 53))).toThrow(/integers/);
    expect(() => balanced(pair(Number.NaN))).toThrow();
    expect(() => balanced(pair(Number.POSITIVE_INFINITY))).toThrow();
  });

  it('accepts an empty entry (everything was zero)', () => {
    expect(balanced([{ accountId: 'a', bucket: 'POSTED', amount: 0 }])).toEqual([]);
  });
});

describe('journal builders', () => {
  it('accrues pending points to the member, reward and status, against issuance', () => {
    const lines = accrualLines(m1, program, 120, 100, 'PENDING');
    expect(lines).toHaveLength(4);
    expect(effect(lines, m1.reward)).toEqual({ POSTED: 0, PENDING: 120, HELD: 0 });
    expect(effect(lines, m1.status)).toEqual({ POSTED: 0, PENDING: 100, HELD: 0 });
    expect(effect(lines, program.issuance)).toEqual({ POSTED: 0, PENDING: -120, HELD: 0 });
    expect(effect(lines, program.statusIssuance)).toEqual({ POSTED: 0, PENDING: -100, HELD: 0 });
  });

  it('accrues straight to POSTED when there is no return window', () => {
    const lines = accrualLines(m1, program, 40, 40, 'POSTED');
    expect(lines.every((line) => line.bucket === 'POSTED')).toBe(true);
    expect(effect(lines, m1.reward).POSTED).toBe(40);
  });

  it('moves pending points to posted on both sides when the return window closes', () => {
    const lines = postingLines(m1, program, 120, 100);
    expect(effect(lines, m1.reward)).toEqual({ POSTED: 120, PENDING: -120, HELD: 0 });
    expect(effect(lines, m1.status)).toEqual({ POSTED: 100, PENDING: -100, HELD: 0 });
    expect(effect(lines, program.issuance)).toEqual({ POSTED: -120, PENDING: 120, HELD: 0 });
    expect(effect(lines, program.statusIssuance)).toEqual({ POSTED: -100, PENDING: 100, HELD: 0 });
  });

  it('holds points without touching the posted balance', () => {
    const lines = holdLines(m1, program, 30);
    expect(effect(lines, m1.reward)).toEqual({ POSTED: 0, PENDING: 0, HELD: 30 });
    expect(effect(lines, program.holds)).toEqual({ POSTED: 0, PENDING: 0, HELD: -30 });
  });

  it('captures a hold: the reservation ends and the points go to redemption', () => {
    const lines = captureLines(m1, program, 30);
    expect(effect(lines, m1.reward)).toEqual({ POSTED: -30, PENDING: 0, HELD: -30 });
    expect(effect(lines, program.holds)).toEqual({ POSTED: 0, PENDING: 0, HELD: 30 });
    expect(effect(lines, program.redemption)).toEqual({ POSTED: 30, PENDING: 0, HELD: 0 });
  });

  it('refunds captured points: the capture’s spend reversed, redemption back to the member, no reservation again', () => {
    const lines = refundLines(m1, program, 30);
    expect(effect(lines, m1.reward)).toEqual({ POSTED: 30, PENDING: 0, HELD: 0 });
    expect(effect(lines, program.redemption)).toEqual({ POSTED: -30, PENDING: 0, HELD: 0 });
    expect(lines).toHaveLength(2);
    // Capture then a full refund: the member's posted balance and redemption are as before the
    // capture; only the reservation stays ended (a capture and a refund are not a release).
    const both = [...holdLines(m1, program, 30), ...captureLines(m1, program, 30), ...refundLines(m1, program, 30)];
    expect(effect(both, m1.reward)).toEqual({ POSTED: 0, PENDING: 0, HELD: 0 });
    expect(effect(both, program.redemption)).toEqual({ POSTED: 0, PENDING: 0, HELD: 0 });
    expect(effect(both, program.holds)).toEqual({ POSTED: 0, PENDING: 0, HELD: 0 });
  });

  it('releases a hold: only the reservation ends', () => {
    const lines = releaseLines(m1, program, 30);
    expect(effect(lines, m1.reward)).toEqual({ POSTED: 0, PENDING: 0, HELD: -30 });
    expect(effect(lines, program.holds)).toEqual({ POSTED: 0, PENDING: 0, HELD: 30 });
    expect(lines).toHaveLength(2);
  });

  it('credits and debits the member against the adjustment account', () => {
    expect(effect(adjustmentLines(m1, program, 25), m1.reward).POSTED).toBe(25);
    expect(effect(adjustmentLines(m1, program, -25), m1.reward).POSTED).toBe(-25);
    expect(effect(adjustmentLines(m1, program, -25), program.adjustment).POSTED).toBe(25);
  });

  it('drops zero lines: an accrual of reward points only has no status lines, a zero adjustment is empty', () => {
    const lines = accrualLines(m1, program, 50, 0, 'PENDING');
    expect(lines.map((line) => line.accountId).sort()).toEqual([program.issuance, m1.reward].sort());
    expect(postingLines(m1, program, 0, 10).some((line) => line.accountId === m1.reward)).toBe(false);
    expect(adjustmentLines(m1, program, 0)).toEqual([]);
    expect(holdLines(m1, program, 0)).toEqual([]);
  });

  it('balances every bucket of every builder for any integer amounts', () => {
    const points = fc.integer({ min: -1_000_000, max: 1_000_000 });
    fc.assert(
      fc.property(points, points, fc.constantFrom('PENDING' as const, 'POSTED' as const), (p, s, bucket) => {
        const entries = [
          accrualLines(m1, program, p, s, bucket),
          postingLines(m1, program, p, s),
          holdLines(m1, program, p),
          captureLines(m1, program, p),
          releaseLines(m1, program, p),
          refundLines(m1, program, p),
          adjustmentLines(m1, program, p),
        ];
        for (const lines of entries) {
          expect(bucketSums(lines)).toEqual({ POSTED: 0, PENDING: 0, HELD: 0 });
          expect(lines.every((line) => line.amount !== 0 && Number.isSafeInteger(line.amount))).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/*
 * Model-based test: random sequences of ledger operations, each applied as its builder's lines to
 * per-account, per-bucket balances (the "real" ledger), checked against a simple model of what each
 * member and each program account should hold after every step. Every command's precondition
 * mirrors the check its service makes (services/purchases, holds, adjustments, transfers, expiry,
 * returns), so the sequences are the ones production can produce.
 */
const MEMBERS = ['m1', 'm2', 'm3'] as const;
type MemberId = (typeof MEMBERS)[number];
const CHARITIES = ['charity:food', 'charity:trees'] as const;
type CharityId = (typeof CHARITIES)[number];
type ClawbackPolicy = 'NEGATIVE_BALANCE' | 'WRITE_OFF';

/** A purchase's points and what returns have taken back so far (the purchases row). */
interface Purchase {
  member: MemberId;
  points: number;
  statusPoints: number;
  returnedPoints: number;
  returnedStatusPoints: number;
  posted: boolean;
}

interface Model {
  available: Record<MemberId, number>;
  /**
   * How far NEGATIVE_BALANCE returns took each member below what they had available. Nothing else
   * may take a member below zero, so available ≥ −clawedBeyondAvailable always.
   */
  clawedBeyondAvailable: Record<MemberId, number>;
  purchases: Purchase[];
  holds: { member: MemberId; points: number }[];
  /** Captured holds and what refunds gave back of each (holds.refunded_points). */
  captured: { member: MemberId; points: number; refunded: number }[];
  expiries: { member: MemberId; points: number; reinstated: boolean }[];
  donated: Record<CharityId, number>;
  redeemed: number;
  adjusted: number;
  writtenOff: number;
}

function emptyModel(): Model {
  const zero = (): Record<MemberId, number> => ({ m1: 0, m2: 0, m3: 0 });
  return {
    available: zero(),
    clawedBeyondAvailable: zero(),
    purchases: [],
    holds: [],
    captured: [],
    expiries: [],
    donated: { 'charity:food': 0, 'charity:trees': 0 },
    redeemed: 0,
    adjusted: 0,
    writtenOff: 0,
  };
}

class Ledger {
  private readonly balances = new Map<string, Record<Bucket, number>>();

  apply(lines: Line[]): void {
    for (const line of lines) {
      const balance = this.balances.get(line.accountId) ?? { POSTED: 0, PENDING: 0, HELD: 0 };
      balance[line.bucket] += line.amount;
      this.balances.set(line.accountId, balance);
    }
  }

  of(accountId: string): Record<Bucket, number> {
    return this.balances.get(accountId) ?? { POSTED: 0, PENDING: 0, HELD: 0 };
  }

  accountIds(): string[] {
    return [...this.balances.keys()];
  }

  /** What the services read as "available": posted − held. */
  available(member: MemberId): number {
    const reward = this.of(memberAccounts(member).reward);
    return reward.POSTED - reward.HELD;
  }

  totals(): Record<Bucket, number> {
    const totals: Record<Bucket, number> = { POSTED: 0, PENDING: 0, HELD: 0 };
    for (const balance of this.balances.values()) for (const bucket of BUCKETS) totals[bucket] += balance[bucket];
    return totals;
  }
}

const sum = <T>(items: readonly T[], amount: (item: T) => number): number => items.reduce((total, item) => total + amount(item), 0);
const unreturned = (p: Purchase) => p.points - p.returnedPoints;
const unreturnedStatus = (p: Purchase) => p.statusPoints - p.returnedStatusPoints;
const pendingPurchases = (model: Readonly<Model>) => model.purchases.filter((p) => !p.posted);
const returnablePurchases = (model: Readonly<Model>) => model.purchases.filter((p) => unreturned(p) > 0);
const refundable = (model: Readonly<Model>) => model.captured.filter((h) => h.refunded < h.points);
const openExpiries = (model: Readonly<Model>) => model.expiries.filter((e) => !e.reinstated);

const balance = (posted: number, pending = 0, held = 0): Record<Bucket, number> => ({ POSTED: posted, PENDING: pending, HELD: held });

/** Every account's balance as the model says it must be; `0 - x` so that no -0 spoils toEqual. */
function expectedBalances(model: Model): Record<string, Record<Bucket, number>> {
  const posted = model.purchases.filter((p) => p.posted);
  const pending = pendingPurchases(model);
  const expected: Record<string, Record<Bucket, number>> = {
    // Issuance stands against every purchase point not returned, in the purchase's bucket.
    [program.issuance]: balance(0 - sum(posted, unreturned), 0 - sum(pending, unreturned)),
    [program.statusIssuance]: balance(0 - sum(posted, unreturnedStatus), 0 - sum(pending, unreturnedStatus)),
    [program.redemption]: balance(model.redeemed),
    [program.holds]: balance(0, 0, 0 - sum(model.holds, (h) => h.points)),
    [program.adjustment]: balance(0 - model.adjusted),
    [program.breakage]: balance(sum(openExpiries(model), (e) => e.points)),
    [program.writeOff]: balance(0 - model.writtenOff),
  };
  for (const charity of CHARITIES) expected[charity] = balance(model.donated[charity]);
  for (const id of MEMBERS) {
    const { reward, status } = memberAccounts(id);
    const held = sum(model.holds.filter((h) => h.member === id), (h) => h.points);
    const own = (p: Purchase) => p.member === id;
    // Pending is exactly what returns have not yet taken from purchases still in their window.
    expected[reward] = balance(model.available[id] + held, sum(pending.filter(own), unreturned), held);
    // Status points move only with their purchase: accrued, posted, returned.
    expected[status] = balance(sum(posted.filter(own), unreturnedStatus), sum(pending.filter(own), unreturnedStatus));
  }
  return expected;
}

function checkInvariants(model: Model, ledger: Ledger): void {
  expect(ledger.totals()).toEqual({ POSTED: 0, PENDING: 0, HELD: 0 });
  // One comparison over every account the ledger or the model knows (fast, and one clear diff).
  const expected = expectedBalances(model);
  const accounts = [...new Set([...ledger.accountIds(), ...Object.keys(expected)])];
  expect(Object.fromEntries(accounts.map((id) => [id, ledger.of(id)]))).toEqual(expected);
  // The sign rules, stated on the ledger alone so that they hold even if the model were wrong.
  const violations: string[] = [];
  for (const id of MEMBERS) {
    const reward = ledger.of(memberAccounts(id).reward);
    const status = ledger.of(memberAccounts(id).status);
    const floor = 0 - model.clawedBeyondAvailable[id];
    if (reward.POSTED - reward.HELD < floor) violations.push(`${id} available ${reward.POSTED - reward.HELD} < ${floor}`);
    if (reward.PENDING < 0) violations.push(`${id} pending ${reward.PENDING}`);
    if (reward.HELD < 0) violations.push(`${id} held ${reward.HELD}`);
    if (status.POSTED < 0 || status.PENDING < 0) violations.push(`${id} status ${JSON.stringify(status)}`);
  }
  expect(violations).toEqual([]);
}

type Command = fc.Command<Model, Ledger>;

/** Picks among what is open when the command runs, by a generated seed, so shrinking stays valid. */
const pick = <T>(items: T[], seed: number): [T, number] => {
  const index = seed % items.length;
  return [items[index]!, index];
};

/** 1 to `available` points: every debit below is only allowed when the member can cover it. */
const upTo = (available: number, seed: number) => 1 + (seed % available);

class Accrue implements Command {
  constructor(
    readonly member: MemberId,
    readonly points: number,
    readonly statusPoints: number,
    readonly bucket: 'PENDING' | 'POSTED',
  ) {}
  check = () => true;
  run(model: Model, ledger: Ledger): void {
    ledger.apply(accrualLines(memberAccounts(this.member), program, this.points, this.statusPoints, this.bucket));
    const posted = this.bucket === 'POSTED';
    model.purchases.push({ member: this.member, points: this.points, statusPoints: this.statusPoints, returnedPoints: 0, returnedStatusPoints: 0, posted });
    if (posted) model.available[this.member] += this.points;
    checkInvariants(model, ledger);
  }
  toString = () => `accrue(${this.member}, ${this.points}, status ${this.statusPoints}, ${this.bucket})`;
}

/** The return window closes: posts what returns during the window left (purchases.postDue). */
class Post implements Command {
  constructor(readonly seed: number) {}
  check = (model: Readonly<Model>) => pendingPurchases(model).length > 0;
  run(model: Model, ledger: Ledger): void {
    const [purchase] = pick(pendingPurchases(model), this.seed);
    ledger.apply(postingLines(memberAccounts(purchase.member), program, unreturned(purchase), unreturnedStatus(purchase)));
    purchase.posted = true;
    model.available[purchase.member] += unreturned(purchase);
    checkInvariants(model, ledger);
  }
  toString = () => `post(#${this.seed})`;
}

class Hold implements Command {
  constructor(
    readonly member: MemberId,
    readonly seed: number,
  ) {}
  check = (model: Readonly<Model>) => model.available[this.member] > 0;
  run(model: Model, ledger: Ledger): void {
    const points = upTo(model.available[this.member], this.seed);
    ledger.apply(holdLines(memberAccounts(this.member), program, points));
    model.holds.push({ member: this.member, points });
    model.available[this.member] -= points;
    checkInvariants(model, ledger);
  }
  toString = () => `hold(${this.member}, #${this.seed})`;
}

class Capture implements Command {
  constructor(readonly seed: number) {}
  check = (model: Readonly<Model>) => model.holds.length > 0;
  run(model: Model, ledger: Ledger): void {
    const [hold, index] = pick(model.holds, this.seed);
    ledger.apply(captureLines(memberAccounts(hold.member), program, hold.points));
    model.holds.splice(index, 1);
    model.captured.push({ ...hold, refunded: 0 });
    model.redeemed += hold.points;
    checkInvariants(model, ledger);
  }
  toString = () => `capture(#${this.seed})`;
}

/** services/holds refund: part or all of what a captured hold has not yet given back, never more. */
class Refund implements Command {
  constructor(
    readonly seed: number,
    readonly amountSeed: number,
  ) {}
  check = (model: Readonly<Model>) => refundable(model).length > 0;
  run(model: Model, ledger: Ledger): void {
    const [hold] = pick(refundable(model), this.seed);
    const points = upTo(hold.points - hold.refunded, this.amountSeed);
    const before = ledger.available(hold.member);
    ledger.apply(refundLines(memberAccounts(hold.member), program, points));
    expect(ledger.available(hold.member)).toBe(before + points);
    hold.refunded += points;
    model.redeemed -= points;
    model.available[hold.member] += points;
    checkInvariants(model, ledger);
  }
  toString = () => `refund(#${this.seed}, #${this.amountSeed})`;
}

class Release implements Command {
  constructor(readonly seed: number) {}
  check = (model: Readonly<Model>) => model.holds.length > 0;
  run(model: Model, ledger: Ledger): void {
    const [hold, index] = pick(model.holds, this.seed);
    ledger.apply(releaseLines(memberAccounts(hold.member), program, hold.points));
    model.holds.splice(index, 1);
    model.available[hold.member] += hold.points;
    checkInvariants(model, ledger);
  }
  toString = () => `release(#${this.seed})`;
}

class Adjust implements Command {
  constructor(
    readonly member: MemberId,
    readonly points: number,
  ) {}
  // As in services/adjustments: a credit is always allowed (it may pay back a clawback), a debit
  // never takes the member below zero available.
  check = (model: Readonly<Model>) => this.points >= 0 || model.available[this.member] + this.points >= 0;
  run(model: Model, ledger: Ledger): void {
    ledger.apply(adjustmentLines(memberAccounts(this.member), program, this.points));
    model.available[this.member] += this.points;
    model.adjusted += this.points;
    checkInvariants(model, ledger);
  }
  toString = () => `adjust(${this.member}, ${this.points})`;
}

/** Gifting: only between two different members, and only what the sender has available. */
class Transfer implements Command {
  constructor(
    readonly from: MemberId,
    readonly to: MemberId,
    readonly seed: number,
  ) {}
  check = (model: Readonly<Model>) => this.from !== this.to && model.available[this.from] > 0;
  run(model: Model, ledger: Ledger): void {
    const points = upTo(model.available[this.from], this.seed);
    ledger.apply(transferLines(memberAccounts(this.from), memberAccounts(this.to), points));
    model.available[this.from] -= points;
    model.available[this.to] += points;
    checkInvariants(model, ledger);
  }
  toString = () => `transfer(${this.from} → ${this.to}, #${this.seed})`;
}

class Donate implements Command {
  constructor(
    readonly member: MemberId,
    readonly charity: CharityId,
    readonly seed: number,
  ) {}
  check = (model: Readonly<Model>) => model.available[this.member] > 0;
  run(model: Model, ledger: Ledger): void {
    const points = upTo(model.available[this.member], this.seed);
    ledger.apply(donationLines(memberAccounts(this.member), this.charity, points));
    model.available[this.member] -= points;
    model.donated[this.charity] += points;
    checkInvariants(model, ledger);
  }
  toString = () => `donate(${this.member} → ${this.charity}, #${this.seed})`;
}

/** Lots past their date: expiry takes from the lots, which add up to what is available. */
class Expire implements Command {
  constructor(
    readonly member: MemberId,
    readonly seed: number,
  ) {}
  check = (model: Readonly<Model>) => model.available[this.member] > 0;
  run(model: Model, ledger: Ledger): void {
    const points = upTo(model.available[this.member], this.seed);
    ledger.apply(expiryLines(memberAccounts(this.member), program, points));
    model.available[this.member] -= points;
    model.expiries.push({ member: this.member, points, reinstated: false });
    checkInvariants(model, ledger);
  }
  toString = () => `expire(${this.member}, #${this.seed})`;
}

/** An agent gives back exactly what one expiry took; a second reinstatement of it is refused. */
class Reinstate implements Command {
  constructor(readonly seed: number) {}
  check = (model: Readonly<Model>) => openExpiries(model).length > 0;
  run(model: Model, ledger: Ledger): void {
    const [expiry] = pick(openExpiries(model), this.seed);
    ledger.apply(reinstatementLines(memberAccounts(expiry.member), program, expiry.points));
    expiry.reinstated = true;
    model.available[expiry.member] += expiry.points;
    checkInvariants(model, ledger);
  }
  toString = () => `reinstate(#${this.seed})`;
}

/**
 * services/returns: takes back part or all of what a purchase still holds; from pending while its
 * window is open, otherwise from posted, clawed back (NEGATIVE_BALANCE) or partly written off.
 */
class Return implements Command {
  constructor(
    readonly seed: number,
    /** Like a return without lines: everything not yet returned. */
    readonly everything: boolean,
    readonly amountSeed: number,
    readonly policy: ClawbackPolicy,
  ) {}
  check = (model: Readonly<Model>) => returnablePurchases(model).length > 0;
  run(model: Model, ledger: Ledger): void {
    const [purchase] = pick(returnablePurchases(model), this.seed);
    const points = this.everything ? unreturned(purchase) : upTo(unreturned(purchase), this.amountSeed);
    // Status points were earned one for one with reward points; never return more than remain.
    const statusPoints = Math.min(points, unreturnedStatus(purchase));
    const split: ReturnSplit = { fromPending: 0, fromPosted: 0, writtenOff: 0, statusFromPending: 0, statusFromPosted: 0 };
    const member = purchase.member;
    const before = ledger.available(member);
    if (!purchase.posted) {
      split.fromPending = points;
      split.statusFromPending = statusPoints;
    } else {
      // The service reads the ledger's available, which may already be negative.
      const covered = Math.min(points, Math.max(0, before));
      split.fromPosted = this.policy === 'NEGATIVE_BALANCE' ? points : covered;
      split.writtenOff = points - split.fromPosted;
      split.statusFromPosted = statusPoints;
      model.available[member] -= split.fromPosted;
      model.clawedBeyondAvailable[member] += split.fromPosted - covered;
      model.writtenOff += split.writtenOff;
    }
    ledger.apply(returnLines(memberAccounts(member), program, split));
    // The promises of services/returns, checked apart from how the split above was worked out.
    const after = ledger.available(member);
    expect(split.fromPending + split.fromPosted + split.writtenOff).toBe(points);
    expect(Math.min(split.fromPending, split.fromPosted, split.writtenOff, split.statusFromPending, split.statusFromPosted)).toBeGreaterThanOrEqual(0);
    if (!purchase.posted) expect(after).toBe(before);
    else if (this.policy === 'NEGATIVE_BALANCE') expect(after).toBe(before - points);
    else {
      // WRITE_OFF never takes a member below zero (or deeper into an earlier clawback), and
      // writes off nothing while the member could still cover it.
      expect(after).toBeGreaterThanOrEqual(Math.min(0, before));
      if (split.writtenOff > 0) expect(after).toBeLessThanOrEqual(0);
    }
    purchase.returnedPoints += points;
    purchase.returnedStatusPoints += statusPoints;
    checkInvariants(model, ledger);
  }
  toString = () => `return(#${this.seed}, ${this.everything ? 'everything' : `#${this.amountSeed}`}, ${this.policy})`;
}

describe('ledger operations in any order (model-based)', () => {
  const member = fc.constantFrom(...MEMBERS);
  const seed = fc.nat({ max: 1_000_000 });
  const commands = fc.commands(
    [
      fc.tuple(member, fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 5_000 }), fc.constantFrom('PENDING' as const, 'POSTED' as const)).map(([m, p, s, b]) => new Accrue(m, p, s, b)),
      seed.map((s) => new Post(s)),
      fc.tuple(member, seed).map(([m, s]) => new Hold(m, s)),
      seed.map((s) => new Capture(s)),
      seed.map((s) => new Release(s)),
      fc.tuple(seed, seed).map(([s, a]) => new Refund(s, a)),
      fc.tuple(member, fc.integer({ min: -5_000, max: 5_000 })).map(([m, p]) => new Adjust(m, p)),
      fc.tuple(fc.uniqueArray(member, { minLength: 2, maxLength: 2 }), seed).map(([[from, to], s]) => new Transfer(from!, to!, s)),
      fc.tuple(member, fc.constantFrom(...CHARITIES), seed).map(([m, c, s]) => new Donate(m, c, s)),
      fc.tuple(member, seed).map(([m, s]) => new Expire(m, s)),
      seed.map((s) => new Reinstate(s)),
      fc.tuple(seed, fc.boolean(), seed, fc.constantFrom<ClawbackPolicy>('NEGATIVE_BALANCE', 'WRITE_OFF')).map(([s, all, a, policy]) => new Return(s, all, a, policy)),
    ],
    // The default size draws at most 10 commands, too few to reach a clawback after a spend.
    { maxCommands: 60, size: 'medium' },
  );

  it('conserves points in every bucket and keeps every member and program account as expected after each step', () => {
    fc.assert(
      fc.property(commands, (cmds) => {
        fc.modelRun(() => ({ model: emptyModel(), real: new Ledger() }), cmds);
      }),
      { numRuns: 200 },
    );
  });

  it('ends with nothing pending or held once every purchase is posted and every hold settled', () => {
    fc.assert(
      fc.property(commands, (cmds) => {
        const model = emptyModel();
        const ledger = new Ledger();
        fc.modelRun(() => ({ model, real: ledger }), cmds);
        while (pendingPurchases(model).length > 0) new Post(0).run(model, ledger);
        while (model.holds.length > 0) new Release(0).run(model, ledger);
        for (const id of MEMBERS) {
          const reward = ledger.of(memberAccounts(id).reward);
          expect(reward.PENDING).toBe(0);
          expect(reward.HELD).toBe(0);
          expect(reward.POSTED).toBe(model.available[id]);
        }
        expect(ledger.of(program.holds).HELD).toBe(0);
        // Everything issued (net of returns and adjustments) is with a member, redeemed, donated
        // or expired; points a return wrote off were spent already, so the program absorbed them.
        const withMembers = sum(MEMBERS, (id) => ledger.of(memberAccounts(id).reward).POSTED);
        const donated = sum(CHARITIES, (c) => model.donated[c]);
        const expired = sum(openExpiries(model), (e) => e.points);
        const issued = 0 - ledger.of(program.issuance).POSTED - ledger.of(program.adjustment).POSTED;
        expect(issued).toBe(withMembers + model.redeemed + donated + expired - model.writtenOff);
      }),
      { numRuns: 100 },
    );
  });
});
