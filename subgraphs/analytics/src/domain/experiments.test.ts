import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assignmentOf, assignVariant, checkHoldoutShare, inHoldout, peekingWarning, readoutWindows, unitHash, validateExperiment, type Variant } from './experiments';

const members = Array.from({ length: 20_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
const v = (key: string, weight: number, earnMultiplier: string | null = null): Variant => ({ key, weight, earnMultiplier, offerIds: [] });

describe('assignVariant', () => {
  const variants = [v('control', 50), v('boost', 30, '1.5'), v('big', 20, '2')];
  const experiment = '3f0d1c2e-0000-4000-8000-000000000001';

  it('is sticky: the same member and experiment always give the same variant', () => {
    for (const member of members.slice(0, 200)) expect(assignVariant(experiment, member, variants)).toBe(assignVariant(experiment, member, [...variants]));
  });

  it('splits members in proportion to the weights (within 1.5 points of 50/30/20 over 20,000)', () => {
    const counts = new Map<string, number>();
    for (const member of members) counts.set(assignVariant(experiment, member, variants), (counts.get(assignVariant(experiment, member, variants)) ?? 0) + 1);
    expect(counts.get('control')! / members.length).toBeCloseTo(0.5, 1);
    expect(Math.abs(counts.get('control')! / members.length - 0.5)).toBeLessThan(0.015);
    expect(Math.abs(counts.get('boost')! / members.length - 0.3)).toBeLessThan(0.015);
    expect(Math.abs(counts.get('big')! / members.length - 0.2)).toBeLessThan(0.015);
  });

  it('differs between experiments (independent splits)', () => {
    const other = randomUUID();
    const same = members.slice(0, 2000).filter((m) => assignVariant(experiment, m, [v('control', 1), v('b', 1)]) === assignVariant(other, m, [v('control', 1), v('b', 1)])).length;
    // Independent 50/50 splits agree about half the time.
    expect(same / 2000).toBeGreaterThan(0.45);
    expect(same / 2000).toBeLessThan(0.55);
  });

  it('puts holdout members in control, flagged, whatever their hash', () => {
    const everyoneTreated = [v('control', 1), v('t', 1_000, '1.5')];
    expect(assignmentOf(experiment, members[0]!, everyoneTreated, true)).toEqual({ variantKey: 'control', holdout: true });
  });
});

describe('the holdout', () => {
  const salt = 'program-salt';
  it('holds out about the share asked', () => {
    const held = members.filter((m) => inHoldout(salt, m, 10)).length / members.length;
    expect(Math.abs(held - 0.1)).toBeLessThan(0.01);
    expect(members.filter((m) => inHoldout(salt, m, 0))).toEqual([]);
  });

  it('moves only at the margin when the share changes: 10 % is a subset of 15 %', () => {
    const at10 = new Set(members.filter((m) => inHoldout(salt, m, 10)));
    const at15 = members.filter((m) => inHoldout(salt, m, 15));
    expect([...at10].every((m) => at15.includes(m))).toBe(true);
    expect(at15.length).toBeGreaterThan(at10.size);
  });

  it('hashes uniformly into [0, 1)', () => {
    const us = members.map((m) => unitHash('x', m));
    expect(Math.min(...us)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...us)).toBeLessThan(1);
    const mean = us.reduce((a, b) => a + b, 0) / us.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
  });

  it('accepts a share from 0 to 20 %', () => {
    expect(checkHoldoutShare('5')).toBe(5);
    expect(checkHoldoutShare('2.5')).toBe(2.5);
    expect(() => checkHoldoutShare('20.5')).toThrow(/at most 20/);
    expect(() => checkHoldoutShare('-1')).toThrow();
    expect(() => checkHoldoutShare('0.125')).toThrow();
  });
});

describe('validateExperiment', () => {
  const base = { name: 'Double points', hypothesis: '×1.5 raises spend', startsAt: new Date('2026-12-01T00:00:00Z'), plannedEndAt: new Date('2026-12-29T00:00:00Z') };
  it('needs exactly one control without treatment', () => {
    expect(validateExperiment({ ...base, variants: [{ key: 'control', weight: 1 }, { key: 'boost', weight: 1, earnMultiplier: '1.5' }] })).toHaveLength(2);
    expect(() => validateExperiment({ ...base, variants: [{ key: 'a', weight: 1 }, { key: 'b', weight: 1 }] })).toThrow(/control/);
    expect(() => validateExperiment({ ...base, variants: [{ key: 'control', weight: 1, earnMultiplier: '2' }, { key: 'b', weight: 1 }] })).toThrow(/no treatment/);
    expect(() => validateExperiment({ ...base, variants: [{ key: 'control', weight: 1 }, { key: 'control', weight: 1 }] })).toThrow(/twice/);
  });

  it('refuses bad weights, multipliers and horizons', () => {
    const control = { key: 'control', weight: 1 };
    expect(() => validateExperiment({ ...base, variants: [control, { key: 'b', weight: 0 }] })).toThrow(/weight/);
    expect(() => validateExperiment({ ...base, variants: [control, { key: 'b', weight: 1, earnMultiplier: '0' }] })).toThrow(/earnMultiplier/);
    expect(() => validateExperiment({ ...base, variants: [control, { key: 'b', weight: 1, earnMultiplier: 'x' }] })).toThrow(/earnMultiplier/);
    expect(() => validateExperiment({ ...base, plannedEndAt: base.startsAt, variants: [control, { key: 'b', weight: 1 }] })).toThrow(/after startsAt/);
    expect(() => validateExperiment({ ...base, plannedEndAt: new Date('2028-01-01T00:00:00Z'), variants: [control, { key: 'b', weight: 1 }] })).toThrow(/366/);
  });
});

describe('readout windows and peeking', () => {
  const startsAt = new Date('2026-12-01T00:00:00Z');
  const planned = new Date('2026-12-29T00:00:00Z');
  it('read so far: [start, now) with a pre-period of equal length', () => {
    expect(readoutWindows(startsAt, null, planned, new Date('2026-12-08T00:00:00Z'))).toEqual({ from: startsAt, to: new Date('2026-12-08T00:00:00Z'), preFrom: new Date('2026-11-24T00:00:00Z') });
    // Stopped early: ends at the stop; past the horizon: ends at the horizon.
    expect(readoutWindows(startsAt, new Date('2026-12-15T00:00:00Z'), planned, new Date('2027-01-10T00:00:00Z')).to).toEqual(new Date('2026-12-15T00:00:00Z'));
    expect(readoutWindows(startsAt, null, planned, new Date('2027-01-10T00:00:00Z')).to).toEqual(planned);
  });
  it('warns before the planned end only', () => {
    expect(peekingWarning(new Date('2026-12-08T00:00:00Z'), planned)).toMatch(/Peeking/);
    expect(peekingWarning(planned, planned)).toBeNull();
  });
});
