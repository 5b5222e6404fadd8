import { DomainError, InputError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { errorOf } from '@loyalty-graph/testing/errors';
import { checkPurchaseDate, checkRuleDate } from './purchase-date';

const NOW = new Date('2026-11-30T12:00:00.000Z');
const MINUTE = 60_000;
const DAY = 86_400_000;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

describe('checkPurchaseDate', () => {
  it('accepts now, a till clock up to five minutes ahead, and late uploads within the program’s window', () => {
    for (const date of [NOW, at(5 * MINUTE), at(-89 * DAY), at(-90 * DAY)]) {
      expect(() => checkPurchaseDate(date, NOW, 90, false), date.toISOString()).not.toThrow();
    }
  });

  it('refuses a purchase dated in the future as malformed input naming occurredAt', () => {
    for (const date of [at(5 * MINUTE + 1), at(DAY), new Date('9999-12-31T00:00:00Z')]) {
      const error = errorOf(() => checkPurchaseDate(date, NOW, 90, true));
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({ field: 'occurredAt' });
      expect((error as InputError).message).toContain('in the future');
    }
  });

  it('refuses a purchase older than the program accepts as PURCHASE_TOO_OLD, for tills and agents', () => {
    const error = errorOf(() => checkPurchaseDate(at(-90 * DAY - 1), NOW, 90, false));
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'PURCHASE_TOO_OLD', field: 'occurredAt' });
    expect(() => checkPurchaseDate(at(-400 * DAY), NOW, 365, false)).toThrow(/365 days/);
  });

  it('lets the program’s admins import history up to ten years old, and nobody further back', () => {
    expect(() => checkPurchaseDate(at(-3_650 * DAY), NOW, 90, true)).not.toThrow();
    const error = errorOf(() => checkPurchaseDate(at(-3_650 * DAY - 1), NOW, 90, true));
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ field: 'occurredAt' });
    expect(errorOf(() => checkPurchaseDate(new Date('1970-01-01T00:00:00Z'), NOW, 3_650, false))).toBeInstanceOf(InputError);
  });
});

describe('checkRuleDate', () => {
  it('accepts dates within ten years either way and names the field beyond', () => {
    expect(() => checkRuleDate(at(3_650 * DAY), NOW, 'effectiveFrom')).not.toThrow();
    expect(() => checkRuleDate(at(-3_650 * DAY), NOW, 'effectiveFrom')).not.toThrow();
    expect(errorOf(() => checkRuleDate(at(3_651 * DAY), NOW, 'campaigns.0.endsAt'))).toMatchObject({ field: 'campaigns.0.endsAt' });
  });
});
