import { InputError } from '@loyalty-graph/shared';
import { inputFieldDescriptions } from '@loyalty-graph/testing/schema-docs';
import { describe, expect, it } from 'vitest';
import { breakpointsOf, checkRules, compareDecimal, matches, quintileScores, rfmFromBreakpoints, rulesPredicate, scoreFrom, scoreRangeToValues, share, type MemberFacts } from './segments';
import { MAX_LANGUAGES, MAX_TAG_LENGTH } from './profile-rules';

const NOW = new Date('2026-11-30T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);
const TIER_GOLD = '00000000-0000-4000-8000-00000000a001';
const TIER_SILVER = '00000000-0000-4000-8000-00000000a002';
const GROUP = '00000000-0000-4000-8000-00000000b001';
const PARTNER = '00000000-0000-4000-8000-00000000c001';

const member = (over: Partial<MemberFacts> = {}): MemberFacts => ({
  tierId: TIER_GOLD,
  status: 'ACTIVE',
  lastPurchaseAt: daysAgo(10),
  purchases: 3,
  spend: '250.5000',
  pointsBalance: '120',
  consents: ['EMAIL:MARKETING'],
  groupIds: [],
  enrolledAt: new Date('2026-01-15T00:00:00Z'),
  enrolledThroughPartnerId: null,
  birthDate: '1990-04-01',
  preferredLanguage: 'en-GB',
  ...over,
});

const fieldOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error.field;
    throw error;
  }
  return null;
};

describe('checkRules', () => {
  it('normalises (sorted, deduplicated lists; instants as ISO) and keeps only the conditions given', () => {
    expect(checkRules({ statuses: ['SUSPENDED', 'ACTIVE', 'ACTIVE'], consents: ['SMS:MARKETING', 'EMAIL:MARKETING'], enrolledBetween: { from: '2026-01-01T01:00:00+01:00' } })).toEqual({
      statuses: ['ACTIVE', 'SUSPENDED'],
      consents: ['EMAIL:MARKETING', 'SMS:MARKETING'],
      enrolledBetween: { from: '2026-01-01T00:00:00.000Z', to: null },
    });
  });

  it('refuses malformed rules with BAD_USER_INPUT naming the field', () => {
    const cases: [unknown, string][] = [
      [{}, 'rules'],
      [{ tierIds: ['nope'] }, 'rules.tierIds'],
      [{ tierIds: [] }, 'rules.tierIds'],
      [{ statuses: ['GONE'] }, 'rules.statuses'],
      [{ purchasedWithinDays: 0 }, 'rules.purchasedWithinDays'],
      [{ purchasedWithinDays: 1.5 }, 'rules.purchasedWithinDays'],
      [{ notPurchasedWithinDays: 4000 }, 'rules.notPurchasedWithinDays'],
      [{ purchasedWithinDays: 30, notPurchasedWithinDays: 30 }, 'rules.notPurchasedWithinDays'],
      [{ spend: { min: '10', max: '5' } }, 'rules.spend'],
      [{ spend: {} }, 'rules.spend'],
      [{ pointsBalance: { min: '1.5' } }, 'rules.pointsBalance'],
      [{ consents: ['EMAIL'] }, 'rules.consents'],
      [{ consents: ['FAX:MARKETING'] }, 'rules.consents'],
      [{ enrolledBetween: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } }, 'rules.enrolledBetween.to'],
      [{ enrolledBetween: {} }, 'rules.enrolledBetween'],
      [{ enrolledThroughPartnerId: 'x' }, 'rules.enrolledThroughPartnerId'],
      [{ rfm: { r: { min: 0 } } }, 'rules.rfm.r'],
      [{ rfm: { f: { min: 4, max: 2 } } }, 'rules.rfm.f'],
      [{ rfm: {} }, 'rules.rfm'],
      [{ bornBetween: { from: '1990-02-01', to: '1990-01-31' } }, 'rules.bornBetween.to'],
      [{ bornBetween: { from: '1990-02-30' } }, 'rules.bornBetween.from'],
      [{ bornBetween: { to: '1990-04-01T00:00:00Z' } }, 'rules.bornBetween.to'],
      [{ bornBetween: { to: '01/04/1990' } }, 'rules.bornBetween.to'],
      [{ bornBetween: {} }, 'rules.bornBetween'],
      [{ preferredLanguages: [] }, 'rules.preferredLanguages'],
      [{ preferredLanguages: [''] }, 'rules.preferredLanguages'],
      [{ preferredLanguages: ['en-' + 'x'.repeat(40)] }, 'rules.preferredLanguages'],
      [{ preferredLanguages: ['english'] }, 'rules.preferredLanguages'],
      [{ preferredLanguages: ['en_GB'] }, 'rules.preferredLanguages'],
      [{ preferredLanguages: Array.from({ length: 51 }, () => 'en') }, 'rules.preferredLanguages'],
    ];
    for (const [input, field] of cases) expect(fieldOf(() => checkRules(input as never)), JSON.stringify(input)).toBe(field);
  });
});

describe('matches', () => {
  it('holds only when every given condition holds', () => {
    const rules = checkRules({ tierIds: [TIER_GOLD], statuses: ['ACTIVE'], spend: { min: '250.5' }, consents: ['EMAIL:MARKETING'] });
    expect(matches(rules, member(), NOW, null)).toBe(true);
    expect(matches(rules, member({ tierId: TIER_SILVER }), NOW, null)).toBe(false);
    expect(matches(rules, member({ tierId: null }), NOW, null)).toBe(false);
    expect(matches(rules, member({ status: 'SUSPENDED' }), NOW, null)).toBe(false);
    expect(matches(rules, member({ spend: '250.4999' }), NOW, null)).toBe(false);
    expect(matches(rules, member({ consents: ['SMS:MARKETING'] }), NOW, null)).toBe(false);
  });

  it('counts activity windows back from now: within includes the boundary, never purchased is "not purchased"', () => {
    const within = checkRules({ purchasedWithinDays: 30 });
    expect(matches(within, member({ lastPurchaseAt: daysAgo(30) }), NOW, null)).toBe(true);
    expect(matches(within, member({ lastPurchaseAt: new Date(daysAgo(30).getTime() - 1) }), NOW, null)).toBe(false);
    expect(matches(within, member({ lastPurchaseAt: null }), NOW, null)).toBe(false);
    const lapsed = checkRules({ notPurchasedWithinDays: 60 });
    expect(matches(lapsed, member({ lastPurchaseAt: daysAgo(61) }), NOW, null)).toBe(true);
    expect(matches(lapsed, member({ lastPurchaseAt: daysAgo(59) }), NOW, null)).toBe(false);
    expect(matches(lapsed, member({ lastPurchaseAt: null }), NOW, null)).toBe(true);
  });

  it('takes any of the groups, all of the consents, inclusive ranges, and enrolment from (inclusive) to (exclusive)', () => {
    expect(matches(checkRules({ groupIds: [GROUP, TIER_SILVER] }), member({ groupIds: [GROUP] }), NOW, null)).toBe(true);
    expect(matches(checkRules({ groupIds: [GROUP] }), member(), NOW, null)).toBe(false);
    expect(matches(checkRules({ consents: ['EMAIL:MARKETING', 'SMS:MARKETING'] }), member(), NOW, null)).toBe(false);
    expect(matches(checkRules({ pointsBalance: { min: '120', max: '120' } }), member(), NOW, null)).toBe(true);
    expect(matches(checkRules({ pointsBalance: { max: '-1' } }), member({ pointsBalance: '-5' }), NOW, null)).toBe(true);
    const window = checkRules({ enrolledBetween: { from: '2026-01-15T00:00:00Z', to: '2026-02-01T00:00:00Z' } });
    expect(matches(window, member(), NOW, null)).toBe(true);
    expect(matches(window, member({ enrolledAt: new Date('2026-02-01T00:00:00Z') }), NOW, null)).toBe(false);
    expect(matches(window, member({ enrolledAt: null }), NOW, null)).toBe(false);
    expect(matches(checkRules({ enrolledThroughPartnerId: PARTNER }), member({ enrolledThroughPartnerId: PARTNER }), NOW, null)).toBe(true);
    expect(matches(checkRules({ enrolledThroughPartnerId: PARTNER }), member(), NOW, null)).toBe(false);
  });

  it('reads RFM scores; a member without RFM (no purchase) never matches an RFM rule', () => {
    const champions = checkRules({ rfm: { r: { min: 4 }, f: { min: 4 } } });
    expect(matches(champions, member(), NOW, { r: 5, f: 4, m: 1 })).toBe(true);
    expect(matches(champions, member(), NOW, { r: 3, f: 5, m: 5 })).toBe(false);
    expect(matches(champions, member({ purchases: 0, lastPurchaseAt: null }), NOW, null)).toBe(false);
  });
});

describe('profile rules', () => {
  const profiling = ['EMAIL:MARKETING', 'SMS:PROFILING'];

  it('keeps inclusive ISO dates, and languages as their primary subtags in lower case, deduplicated and sorted', () => {
    expect(checkRules({ bornBetween: { from: '1980-01-01' }, preferredLanguages: ['en-GB', 'PL', 'en', 'en-US'] })).toEqual({
      bornBetween: { from: '1980-01-01', to: null },
      preferredLanguages: ['en', 'pl'],
    });
    // One day is a range (from = to).
    expect(checkRules({ bornBetween: { from: '1990-04-01', to: '1990-04-01' } }).bornBetween).toEqual({ from: '1990-04-01', to: '1990-04-01' });
  });

  it('matches born from (inclusive) to (inclusive), and the primary language subtag whatever its case or region', () => {
    const eighties = checkRules({ bornBetween: { from: '1980-01-01', to: '1989-12-31' } });
    expect(matches(eighties, member({ consents: profiling, birthDate: '1980-01-01' }), NOW, null)).toBe(true);
    expect(matches(eighties, member({ consents: profiling, birthDate: '1989-12-31' }), NOW, null)).toBe(true);
    expect(matches(eighties, member({ consents: profiling, birthDate: '1990-01-01' }), NOW, null)).toBe(false);
    expect(matches(eighties, member({ consents: profiling, birthDate: '1979-12-31' }), NOW, null)).toBe(false);
    expect(matches(eighties, member({ consents: profiling, birthDate: null }), NOW, null)).toBe(false);
    expect(matches(checkRules({ bornBetween: { to: '1990-04-01' } }), member({ consents: profiling }), NOW, null)).toBe(true);
    const english = checkRules({ preferredLanguages: ['en'] });
    expect(matches(english, member({ consents: profiling, preferredLanguage: 'en-GB' }), NOW, null)).toBe(true);
    expect(matches(english, member({ consents: profiling, preferredLanguage: 'EN' }), NOW, null)).toBe(true);
    expect(matches(checkRules({ preferredLanguages: ['en-US'] }), member({ consents: profiling, preferredLanguage: 'en-GB' }), NOW, null)).toBe(true);
    expect(matches(english, member({ consents: profiling, preferredLanguage: 'pl' }), NOW, null)).toBe(false);
    expect(matches(english, member({ consents: profiling, preferredLanguage: null }), NOW, null)).toBe(false);
  });

  it('never matches a member who did not grant PROFILING on some channel, whatever their profile', () => {
    const rules = [checkRules({ bornBetween: { from: '1900-01-01' } }), checkRules({ preferredLanguages: ['en'] })];
    for (const r of rules) {
      expect(matches(r, member({ consents: ['EMAIL:MARKETING', 'POST:PARTNER_SHARING'] }), NOW, null)).toBe(false);
      expect(matches(r, member({ consents: ['POST:PROFILING'] }), NOW, null)).toBe(true);
    }
    // Other rules do not ask for it.
    expect(matches(checkRules({ tierIds: [TIER_GOLD] }), member({ consents: [] }), NOW, null)).toBe(true);
  });

  it('becomes SQL on birth_date, the primary subtag of preferred_language and a PROFILING consent', () => {
    const { sql, params } = rulesPredicate(checkRules({ bornBetween: { from: '1980-01-01', to: '1989-12-31' }, preferredLanguages: ['en-GB'] }), 3, NOW);
    expect(sql).toContain('s.consents && $3::text[]');
    expect(sql).toContain('s.birth_date >= $4::date');
    expect(sql).toContain('s.birth_date <= $5::date');
    expect(sql).toContain("lower(split_part(s.preferred_language, '-', 1)) = ANY($6::text[])");
    expect(params).toEqual([['EMAIL:PROFILING', 'SMS:PROFILING', 'PUSH:PROFILING', 'POST:PROFILING'], '1980-01-01', '1989-12-31', ['en']]);
  });
});

describe('profile rule limits in schema.graphql', () => {
  it('states the language limits next to the field, and the PROFILING condition', () => {
    const fields = inputFieldDescriptions(new URL('../../schema.graphql', import.meta.url));
    expect(fields.get('SegmentRulesInput.preferredLanguages')).toContain(`1–${MAX_LANGUAGES} BCP 47 tags, each 1–${MAX_TAG_LENGTH} characters`);
    for (const field of ['SegmentRulesInput.preferredLanguages', 'SegmentRulesInput.bornBetween']) expect(fields.get(field), field).toContain('PROFILING');
  });
});

describe('rulesPredicate', () => {
  it('compares RFM ranges as value ranges: days as instants of the last purchase, nothing for a range no score reaches', () => {
    const bps = [...breakpointsOf('R', [1, 100, 7, 30, 365]), ...breakpointsOf('F', [1, 1, 1, 2])];
    // R ≥ 4: at most 7 days → last purchase after now − 8 days.
    const { sql, params } = rulesPredicate(checkRules({ rfm: { r: { min: 4 } } }), 1, NOW, bps);
    expect(sql).toContain('s.last_purchase_at > $1::timestamptz');
    expect(params).toEqual([daysAgo(8)]);
    // F: 1 and 2 purchases score 4 and 5 (cume_dist 0.75 and 1): F ≤ 2 matches nobody.
    expect(rulesPredicate(checkRules({ rfm: { f: { max: 2 } } }), 1, NOW, bps).sql).toContain('(false)');
  });

  it('numbers its parameters from the given position, one per bound, and is true for no condition', () => {
    const { sql, params } = rulesPredicate(checkRules({ spend: { min: '10', max: '20' }, statuses: ['ACTIVE'] }), 5, NOW);
    expect(params).toEqual([['ACTIVE'], '10', '20']);
    expect(sql).toContain('s.status = ANY($5::text[])');
    expect(sql).toContain('s.spend >= $6::numeric');
    expect(sql).toContain('s.spend <= $7::numeric');
    expect(rulesPredicate({}, 1, NOW)).toEqual({ sql: 'true', params: [] });
  });
});

describe('RFM quintiles', () => {
  it('scores ceil(5 × cume_dist): five distinct values get 1 to 5, and equal values always share a score', () => {
    expect(quintileScores([10, 20, 30, 40, 50], 'higher')).toEqual([1, 2, 3, 4, 5]);
    // Six one-purchase members of ten: cume_dist 0.6 → all score 3; 2 purchases: 0.8 → 4; 5 and 9: 0.9, 1.0 → 5.
    expect(quintileScores([1, 1, 1, 1, 1, 1, 2, 2, 5, 9], 'higher')).toEqual([3, 3, 3, 3, 3, 3, 4, 4, 5, 5]);
    // Everyone equal: everyone 5 (cume_dist 1).
    expect(quintileScores([3, 3, 3], 'higher')).toEqual([5, 5, 5]);
  });

  it('for recency, fewer days is better', () => {
    expect(quintileScores([1, 100, 7, 30, 365], 'lower')).toEqual([5, 2, 4, 3, 1]);
    expect(quintileScores([0, 0, 50, 50], 'lower')).toEqual([5, 5, 3, 3]);
  });

  it('breakpoints give back every scored member’s score, and place values between them below', () => {
    const purchases = [1, 1, 1, 1, 1, 1, 2, 2, 5, 9];
    const f = breakpointsOf('F', purchases);
    expect(f).toEqual([
      { dimension: 'F', score: 3, bound: '1' },
      { dimension: 'F', score: 4, bound: '2' },
      { dimension: 'F', score: 5, bound: '5' },
    ]);
    const scores = quintileScores(purchases, 'higher');
    purchases.forEach((v, i) => expect(scoreFrom(f, 'F', String(v))).toBe(scores[i]));
    expect(scoreFrom(f, 'F', '4')).toBe(4);
    expect(scoreFrom(f, 'F', '0')).toBe(3);
    const days = [1, 100, 7, 30, 365];
    const r = breakpointsOf('R', days);
    const rScores = quintileScores(days, 'lower');
    days.forEach((v, i) => expect(scoreFrom(r, 'R', String(v))).toBe(rScores[i]));
    expect(scoreFrom(r, 'R', '8')).toBe(3);
    expect(scoreFrom(r, 'R', '1000')).toBe(1);
  });

  it('gives no RFM to a member without a purchase, and whole days since the last one', () => {
    const bps = [...breakpointsOf('R', [0, 10]), ...breakpointsOf('F', [1, 2]), ...breakpointsOf('M', [5, 50])];
    expect(rfmFromBreakpoints(bps, { purchases: 0, lastPurchaseAt: null, spend: '0' }, NOW)).toBeNull();
    expect(rfmFromBreakpoints(bps, { purchases: 2, lastPurchaseAt: new Date(daysAgo(10).getTime() + 1), spend: '50.0000' }, NOW)).toEqual({ days: 9, r: 3, f: 5, m: 5 });
  });
});

describe('scoreRangeToValues', () => {
  it('turns every score range into exactly the values scoreFrom puts in it, for F, M and R (days)', () => {
    const populations = [[1, 1, 1, 1, 1, 1, 2, 2, 5, 9], [10, 20, 30, 40, 50], [3, 3, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [7]];
    const ranges = [null, 1, 2, 3, 4, 5].flatMap((min) => [null, 1, 2, 3, 4, 5].map((max) => ({ min, max }))).filter((r) => r.min !== null || r.max !== null);
    for (const population of [...populations, []]) {
      for (const dimension of ['F', 'M', 'R'] as const) {
        const bps = breakpointsOf(dimension, population);
        for (const range of ranges) {
          const values = scoreRangeToValues(bps, dimension, range);
          for (let v = 0; v <= 60; v++) {
            const score = scoreFrom(bps, dimension, String(v));
            const inRange = (range.min === null || score >= range.min) && (range.max === null || score <= range.max);
            const allowed =
              values !== null &&
              (values.atLeast === null || v >= Number(values.atLeast)) &&
              (values.below === null || v < Number(values.below)) &&
              (values.atMost === null || v <= Number(values.atMost)) &&
              (values.above === null || v > Number(values.above));
            expect(allowed, `${dimension} ${JSON.stringify(population)} ${JSON.stringify(range)} value ${v} score ${score}`).toBe(inRange);
          }
        }
      }
    }
  });
});

describe('numbers', () => {
  it('compares decimals exactly and rounds shares half up to 4 decimals', () => {
    expect(compareDecimal('250.5', '250.5000')).toBe(0);
    expect(compareDecimal('-1', '0.0001')).toBe(-1);
    expect(compareDecimal('10000000000000.0001', '10000000000000')).toBe(1);
    expect(share(1, 3)).toBe('0.3333');
    expect(share(2, 3)).toBe('0.6667');
    expect(share(1, 8)).toBe('0.1250');
    expect(share(1, 20000 * 2)).toBe('0.0000');
    expect(share(1, 20000)).toBe('0.0001');
    expect(share(3, 3)).toBe('1.0000');
    expect(share(0, 0)).toBeNull();
  });
});
