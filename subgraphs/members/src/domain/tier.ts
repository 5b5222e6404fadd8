import { DomainError, InputError } from '@loyalty-graph/shared';
import type { TierBenefit } from '../entities/tier';
import { requiredText } from './text';
import { LIMITS } from './limits';

export interface TierShape {
  id?: string;
  name: string;
  rank: number;
  qualifyingThreshold: number;
}

export function validateTierFields(input: { name?: string | null; rank?: number | null; qualifyingThreshold?: number | null; benefits?: TierBenefit[] | null }) {
  const out: { name?: string; rank?: number; qualifyingThreshold?: number; benefits?: TierBenefit[] } = {};
  if (input.name != null) out.name = requiredText(input.name, 'name', 50);
  if (input.rank != null) {
    if (!Number.isInteger(input.rank) || input.rank < 0 || input.rank > 1000) throw new InputError('rank must be between 0 and 1000', 'rank');
    out.rank = input.rank;
  }
  if (input.qualifyingThreshold != null) {
    const max = LIMITS.qualifyingThreshold;
    if (!Number.isInteger(input.qualifyingThreshold) || input.qualifyingThreshold < 0 || input.qualifyingThreshold > max) {
      throw new InputError(`qualifyingThreshold must be a whole number from 0 to ${max}`, 'qualifyingThreshold');
    }
    out.qualifyingThreshold = input.qualifyingThreshold;
  }
  if (input.benefits != null) {
    if (input.benefits.length > 20) throw new InputError('a tier has at most 20 benefits', 'benefits');
    out.benefits = input.benefits.map((benefit, i) => {
      if (!/^[A-Z][A-Z0-9_]{1,49}$/.test(benefit.code)) {
        throw new InputError('a benefit code is UPPER_SNAKE_CASE, e.g. PRIORITY_HOTLINE', `benefits.${i}.code`);
      }
      return { code: benefit.code, description: requiredText(benefit.description, `benefits.${i}.description`, 300) };
    });
  }
  return out;
}

/**
 * A better tier must not be easier to reach: ordered by rank, thresholds never decrease.
 * Checked over the whole ladder as it would be after the change.
 */
export function assertLadderConsistent(tiers: readonly TierShape[]): void {
  const sorted = [...tiers].sort((a, b) => a.rank - b.rank);
  for (let i = 1; i < sorted.length; i++) {
    const lower = sorted[i - 1]!;
    const higher = sorted[i]!;
    if (higher.rank === lower.rank) throw new DomainError('TIER_RANK_TAKEN', `Rank ${higher.rank} is already used by ${lower.name}`, 'rank');
    if (higher.qualifyingThreshold < lower.qualifyingThreshold) {
      throw new DomainError(
        'TIER_THRESHOLD_ORDER',
        `${higher.name} (rank ${higher.rank}) would need fewer points than ${lower.name} (rank ${lower.rank})`,
        'qualifyingThreshold',
      );
    }
  }
}
