import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accrualLines,
  adjustmentLines,
  balanced,
  captureLines,
  holdLines,
  postingLines,
  releaseLines,
  type Bucket,
  type Line,
  type MemberAccounts,
  type ProgramAccounts,
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
 * member should have after every step.
 */
const MEMBERS = ['m1', 'm2', 'm3'] as const;
type MemberId = (typeof MEMBERS)[number];

interface Model {
  available: Record<MemberId, number>;
  pending: Record<MemberId, number>;
  status: Record<MemberId, number>;
  accruals: { member: MemberId; points: number; statusPoints: number }[];
  holds: { member: MemberId; points: number }[];
  redeemed: number;
}

function emptyModel(): Model {
  const zero = (): Record<MemberId, number> => ({ m1: 0, m2: 0, m3: 0 });
  return { available: zero(), pending: zero(), status: zero(), accruals: [], holds: [], redeemed: 0 };
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

  totals(): Record<Bucket, number> {
    const totals: Record<Bucket, number> = { POSTED: 0, PENDING: 0, HELD: 0 };
    for (const balance of this.balances.values()) for (const bucket of BUCKETS) totals[bucket] += balance[bucket];
    return totals;
  }
}

function checkInvariants(model: Model, ledger: Ledger): void {
  expect(ledger.totals()).toEqual({ POSTED: 0, PENDING: 0, HELD: 0 });
  for (const id of MEMBERS) {
    const { reward, status } = memberAccounts(id);
    const r = ledger.of(reward);
    expect(r.POSTED - r.HELD).toBe(model.available[id]);
    expect(r.POSTED - r.HELD).toBeGreaterThanOrEqual(0);
    expect(r.PENDING).toBeGreaterThanOrEqual(0);
    expect(r.HELD).toBeGreaterThanOrEqual(0);
    expect(r.PENDING).toBe(model.pending[id]);
    expect(r.HELD).toBe(model.holds.filter((h) => h.member === id).reduce((sum, h) => sum + h.points, 0));
    expect(ledger.of(status)).toEqual({ POSTED: model.status[id], PENDING: model.accruals.filter((a) => a.member === id).reduce((sum, a) => sum + a.statusPoints, 0), HELD: 0 });
  }
  expect(ledger.of(program.redemption).POSTED).toBe(model.redeemed);
}

type Command = fc.Command<Model, Ledger>;

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
    if (this.bucket === 'PENDING') {
      model.pending[this.member] += this.points;
      model.accruals.push({ member: this.member, points: this.points, statusPoints: this.statusPoints });
    } else {
      model.available[this.member] += this.points;
      model.status[this.member] += this.statusPoints;
    }
    checkInvariants(model, ledger);
  }
  toString = () => `accrue(${this.member}, ${this.points}, status ${this.statusPoints}, ${this.bucket})`;
}

/** Picks among what is open when the command runs, by a generated seed, so shrinking stays valid. */
const pick = <T>(items: T[], seed: number): [T, number] => {
  const index = seed % items.length;
  return [items[index]!, index];
};

class Post implements Command {
  constructor(readonly seed: number) {}
  check = (model: Readonly<Model>) => model.accruals.length > 0;
  run(model: Model, ledger: Ledger): void {
    const [accrual, index] = pick(model.accruals, this.seed);
    ledger.apply(postingLines(memberAccounts(accrual.member), program, accrual.points, accrual.statusPoints));
    model.accruals.splice(index, 1);
    model.pending[accrual.member] -= accrual.points;
    model.available[accrual.member] += accrual.points;
    model.status[accrual.member] += accrual.statusPoints;
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
    const points = 1 + (this.seed % model.available[this.member]);
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
    model.redeemed += hold.points;
    checkInvariants(model, ledger);
  }
  toString = () => `capture(#${this.seed})`;
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
  // A debit never takes the member below zero available.
  check = (model: Readonly<Model>) => model.available[this.member] + this.points >= 0;
  run(model: Model, ledger: Ledger): void {
    ledger.apply(adjustmentLines(memberAccounts(this.member), program, this.points));
    model.available[this.member] += this.points;
    checkInvariants(model, ledger);
  }
  toString = () => `adjust(${this.member}, ${this.points})`;
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
      fc.tuple(member, fc.integer({ min: -5_000, max: 5_000 })).map(([m, p]) => new Adjust(m, p)),
    ],
    { maxCommands: 40 },
  );

  it('conserves points in every bucket and keeps every member non-negative and as expected after each step', () => {
    fc.assert(
      fc.property(commands, (cmds) => {
        fc.modelRun(() => ({ model: emptyModel(), real: new Ledger() }), cmds);
      }),
      { numRuns: 200 },
    );
  });

  it('ends with nothing pending or held once every accrual is posted and every hold settled', () => {
    fc.assert(
      fc.property(commands, (cmds) => {
        const model = emptyModel();
        const ledger = new Ledger();
        fc.modelRun(() => ({ model, real: ledger }), cmds);
        while (model.accruals.length > 0) new Post(0).run(model, ledger);
        while (model.holds.length > 0) new Release(0).run(model, ledger);
        for (const id of MEMBERS) {
          const reward = ledger.of(memberAccounts(id).reward);
          expect(reward.PENDING).toBe(0);
          expect(reward.HELD).toBe(0);
          expect(reward.POSTED).toBe(model.available[id]);
        }
        expect(ledger.of(program.holds).HELD).toBe(0);
        // Everything issued is either with a member, redeemed, or came from adjustments.
        const withMembers = MEMBERS.reduce((sum, id) => sum + ledger.of(memberAccounts(id).reward).POSTED, 0);
        const issued = 0 - ledger.of(program.issuance).POSTED - ledger.of(program.adjustment).POSTED;
        expect(issued).toBe(withMembers + model.redeemed);
      }),
      { numRuns: 100 },
    );
  });
});
