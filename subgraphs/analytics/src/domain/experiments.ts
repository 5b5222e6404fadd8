import { createHash } from 'node:crypto';
import { InputError } from '@loyalty-graph/shared';

/**
 * Experiments and the program's holdout, as rules: who is held out, which variant a member gets,
 * what a valid experiment is. Pure functions (no database, no GraphQL).
 */

export type ExperimentMetric = 'SPEND' | 'FREQUENCY' | 'REDEMPTION';
export const EXPERIMENT_METRICS: readonly ExperimentMetric[] = ['SPEND', 'FREQUENCY', 'REDEMPTION'];

/** The variant key every experiment has once, with no treatment: what the others are compared with. */
export const CONTROL = 'control';

export interface Variant {
  key: string;
  weight: number;
  /** A decimal the ledger multiplies earned points by (e.g. "1.5"); null: no change. */
  earnMultiplier: string | null;
  offerIds: string[];
}

/** The program-wide holdout may keep at most this share of members out of every treatment (percent). */
export const MAX_HOLDOUT_PERCENT = 20;
/** Experiments run at most a year: a readout compares with a pre-period of the same length. */
export const MAX_HORIZON_DAYS = 366;
export const MAX_VARIANTS = 10;
const MAX_MULTIPLIER = 10;

/**
 * A uniform number in [0, 1) from the parts, the same on every replica and every run: the first 52
 * bits of SHA-256 (a double holds 53 bits exactly, so every value is distinct and uniform).
 */
export function unitHash(...parts: string[]): number {
  const digest = createHash('sha256').update(parts.join(':')).digest();
  // 6 bytes = 48 bits, plus the top 4 bits of the 7th: 52 bits.
  const high = digest.readUIntBE(0, 6);
  const low = digest[6]! >>> 4;
  return (high * 16 + low) / 2 ** 52;
}

/**
 * In the program's holdout: hash(salt, member) < share. The salt is the program's and never
 * changes, so each member keeps their number; raising the share adds exactly the members between the
 * old and the new threshold, lowering it releases only those (nobody else moves).
 */
export function inHoldout(salt: string, memberId: string, sharePercent: number): boolean {
  return sharePercent > 0 && unitHash('holdout', salt, memberId) < sharePercent / 100;
}

/**
 * The variant of a member: hash(experiment, member) in [0, 1) falls in one variant's slice of the
 * cumulative weights (in the order given). Deterministic, so sticky without storing anything; the
 * hash is independent of the holdout's (different inputs), so the holdout takes an even share of
 * every variant.
 */
export function assignVariant(experimentId: string, memberId: string, variants: readonly Pick<Variant, 'key' | 'weight'>[]): string {
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  const u = unitHash('experiment', experimentId, memberId) * total;
  let cumulative = 0;
  for (const variant of variants) {
    cumulative += variant.weight;
    if (u < cumulative) return variant.key;
  }
  return variants.at(-1)!.key;
}

/** What a member gets: holdout members are assigned control and flagged, whatever their hash. */
export function assignmentOf(experimentId: string, memberId: string, variants: readonly Variant[], holdout: boolean): { variantKey: string; holdout: boolean } {
  return holdout ? { variantKey: CONTROL, holdout: true } : { variantKey: assignVariant(experimentId, memberId, variants), holdout: false };
}

/** Whether a variant changes anything for its members (control never does). */
export function isTreatment(variant: Variant): boolean {
  return variant.earnMultiplier !== null || variant.offerIds.length > 0;
}

/** A holdout share in percent: 0 to 20, at most 2 decimals. */
export function checkHoldoutShare(share: string): number {
  if (!/^\d{1,2}(\.\d{1,2})?$/.test(share)) throw new InputError('share is a percentage such as "5" or "2.5" (at most 2 decimals)', 'share');
  const value = Number(share);
  if (value > MAX_HOLDOUT_PERCENT) throw new InputError(`share is at most ${MAX_HOLDOUT_PERCENT} %`, 'share');
  return value;
}

export interface ExperimentInput {
  name: string;
  hypothesis: string;
  variants: readonly { key: string; weight: number; earnMultiplier?: string | null; offerIds?: readonly string[] | null }[];
  startsAt: Date;
  plannedEndAt: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks an experiment's definition; returns its variants normalised (control first is not required). */
export function validateExperiment(input: ExperimentInput): Variant[] {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) throw new InputError('name must be 1 to 100 characters', 'name');
  const hypothesis = input.hypothesis.trim();
  if (hypothesis.length < 1 || hypothesis.length > 2000) throw new InputError('hypothesis must be 1 to 2000 characters', 'hypothesis');
  if (input.variants.length < 2 || input.variants.length > MAX_VARIANTS) throw new InputError(`an experiment has 2 to ${MAX_VARIANTS} variants, one of them '${CONTROL}'`, 'variants');
  const seen = new Set<string>();
  const variants = input.variants.map((v, i): Variant => {
    const field = `variants.${i}`;
    if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(v.key)) throw new InputError('key is 1 to 40 lower-case letters, digits, _ or -', `${field}.key`);
    if (seen.has(v.key)) throw new InputError(`key ${v.key} appears twice`, `${field}.key`);
    seen.add(v.key);
    if (!Number.isInteger(v.weight) || v.weight < 1 || v.weight > 1000) throw new InputError('weight is a whole number from 1 to 1000', `${field}.weight`);
    const earnMultiplier = v.earnMultiplier ?? null;
    if (earnMultiplier !== null) {
      if (!/^\d{1,2}(\.\d{1,4})?$/.test(earnMultiplier) || Number(earnMultiplier) <= 0 || Number(earnMultiplier) > MAX_MULTIPLIER) {
        throw new InputError(`earnMultiplier is a decimal above 0 and at most ${MAX_MULTIPLIER}, with at most 4 decimals (e.g. "1.5")`, `${field}.earnMultiplier`);
      }
    }
    const offerIds = [...new Set(v.offerIds ?? [])];
    offerIds.forEach((id, j) => {
      if (!UUID.test(id)) throw new InputError('offerIds are offer ids', `${field}.offerIds.${j}`);
    });
    if (v.key === CONTROL && (earnMultiplier !== null || offerIds.length > 0)) throw new InputError(`'${CONTROL}' has no treatment: no earnMultiplier, no offerIds`, field);
    return { key: v.key, weight: v.weight, earnMultiplier, offerIds };
  });
  if (!seen.has(CONTROL)) throw new InputError(`exactly one variant has the key '${CONTROL}'`, 'variants');
  if (!(input.plannedEndAt > input.startsAt)) throw new InputError('plannedEndAt must be after startsAt', 'plannedEndAt');
  if (input.plannedEndAt.getTime() - input.startsAt.getTime() > MAX_HORIZON_DAYS * 86_400_000) throw new InputError(`an experiment runs at most ${MAX_HORIZON_DAYS} days`, 'plannedEndAt');
  return variants;
}

/** The readout's windows: the experiment so far, and the pre-period of the same length just before it. */
export function readoutWindows(startsAt: Date, endsAt: Date | null, plannedEndAt: Date, now: Date): { from: Date; to: Date; preFrom: Date } {
  const end = Math.min(now.getTime(), (endsAt ?? plannedEndAt).getTime());
  const to = new Date(Math.max(end, startsAt.getTime()));
  return { from: startsAt, to, preFrom: new Date(startsAt.getTime() - (to.getTime() - startsAt.getTime())) };
}

/** The warning a readout carries when it is read before the planned end (repeated looks inflate false positives). */
export function peekingWarning(readTo: Date, plannedEndAt: Date): string | null {
  return readTo < plannedEndAt
    ? `Peeking: read before the planned end (${plannedEndAt.toISOString()}). Intervals are valid for one look at the planned horizon; deciding on an early look raises the false-positive rate above 5 %.`
    : null;
}
