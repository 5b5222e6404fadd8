import { describe, expect, it } from 'vitest';
import { availableAt, availableStock, inAudience, notOrderableReasons, type MemberFacts, type RewardFacts } from './eligibility';

const NOW = new Date('2026-06-15T12:00:00.000Z');
const reward = (over: Partial<RewardFacts> = {}): RewardFacts => ({
  id: 'r1',
  limitCount: null,
  status: 'ACTIVE',
  points: 500,
  availableFrom: null,
  availableUntil: null,
  stockReceived: null,
  stockReserved: 0,
  stockSold: 0,
  tierIds: [],
  memberGroupIds: [],
  ...over,
});
const member = (over: Partial<MemberFacts> = {}): MemberFacts => ({ tierId: 'gold', availablePoints: 1_000, groupIds: null, ...over });

describe('notOrderableReasons', () => {
  it('is empty for an open, unlimited, active reward the member can afford', () => {
    expect(notOrderableReasons(reward(), member(), NOW)).toEqual([]);
  });

  it('says NOT_ENOUGH_POINTS below the price, and not at exactly the price', () => {
    expect(notOrderableReasons(reward(), member({ availablePoints: 499 }), NOW)).toEqual(['NOT_ENOUGH_POINTS']);
    expect(notOrderableReasons(reward(), member({ availablePoints: 500 }), NOW)).toEqual([]);
  });

  it('says TIER when the member’s tier is not listed, or they have no tier', () => {
    expect(notOrderableReasons(reward({ tierIds: ['silver'] }), member(), NOW)).toEqual(['TIER']);
    expect(notOrderableReasons(reward({ tierIds: ['gold'] }), member({ tierId: null }), NOW)).toEqual(['TIER']);
    expect(notOrderableReasons(reward({ tierIds: ['silver', 'gold'] }), member(), NOW)).toEqual([]);
  });

  it('says GROUP for a groups-only reward while group membership is unknown, and accepts a known group', () => {
    expect(notOrderableReasons(reward({ memberGroupIds: ['staff'] }), member(), NOW)).toEqual(['GROUP']);
    expect(notOrderableReasons(reward({ memberGroupIds: ['staff'] }), member({ groupIds: ['staff'] }), NOW)).toEqual([]);
    expect(notOrderableReasons(reward({ memberGroupIds: ['staff'] }), member({ groupIds: ['other'] }), NOW)).toEqual(['GROUP']);
  });

  it('lets either the tier or a group open a reward for both, and names both when neither does', () => {
    const both = reward({ tierIds: ['silver'], memberGroupIds: ['staff'] });
    expect(notOrderableReasons(both, member({ tierId: 'silver' }), NOW)).toEqual([]);
    expect(notOrderableReasons(both, member({ groupIds: ['staff'] }), NOW)).toEqual([]);
    expect(notOrderableReasons(both, member(), NOW)).toEqual(['TIER', 'GROUP']);
  });

  it('says OUT_OF_STOCK when nothing is left, never for unlimited stock', () => {
    expect(notOrderableReasons(reward({ stockReceived: 10, stockReserved: 4, stockSold: 6 }), member(), NOW)).toEqual(['OUT_OF_STOCK']);
    expect(notOrderableReasons(reward({ stockReceived: 0 }), member(), NOW)).toEqual(['OUT_OF_STOCK']);
    expect(notOrderableReasons(reward({ stockReceived: 10, stockReserved: 4, stockSold: 5 }), member(), NOW)).toEqual([]);
    expect(notOrderableReasons(reward({ stockReceived: null }), member(), NOW)).toEqual([]);
  });

  it('says NOT_AVAILABLE_NOW before the window and from its end on', () => {
    expect(notOrderableReasons(reward({ availableFrom: '2026-06-15T12:00:00.001Z' }), member(), NOW)).toEqual(['NOT_AVAILABLE_NOW']);
    expect(notOrderableReasons(reward({ availableUntil: '2026-06-15T12:00:00.000Z' }), member(), NOW)).toEqual(['NOT_AVAILABLE_NOW']);
  });

  it('says RETIRED for a retired reward', () => {
    expect(notOrderableReasons(reward({ status: 'RETIRED' }), member(), NOW)).toEqual(['RETIRED']);
  });

  it('gives every reason at once, in the schema’s order', () => {
    const hopeless = reward({ status: 'RETIRED', points: 5_000, tierIds: ['silver'], stockReceived: 1, stockSold: 1, availableUntil: '2026-01-01T00:00:00.000Z' });
    expect(notOrderableReasons(hopeless, member(), NOW)).toEqual(['NOT_ENOUGH_POINTS', 'TIER', 'OUT_OF_STOCK', 'NOT_AVAILABLE_NOW', 'RETIRED']);
  });
});

describe('availableAt', () => {
  it('includes the first instant of the window and excludes its end', () => {
    const window = { availableFrom: '2026-06-15T12:00:00.000Z', availableUntil: '2026-06-16T12:00:00.000Z' };
    expect(availableAt(window, new Date('2026-06-15T12:00:00.000Z'))).toBe(true);
    expect(availableAt(window, new Date('2026-06-16T11:59:59.999Z'))).toBe(true);
    expect(availableAt(window, new Date('2026-06-16T12:00:00.000Z'))).toBe(false);
    expect(availableAt(window, new Date('2026-06-15T11:59:59.999Z'))).toBe(false);
    expect(availableAt({ availableFrom: null, availableUntil: null }, NOW)).toBe(true);
  });
});

describe('availableStock and inAudience', () => {
  it('counts received − reserved − sold, null when unlimited', () => {
    expect(availableStock({ stockReceived: 10, stockReserved: 3, stockSold: 2 })).toBe(5);
    expect(availableStock({ stockReceived: null, stockReserved: 0, stockSold: 0 })).toBeNull();
  });

  it('treats an audience with nobody listed as everyone', () => {
    expect(inAudience({ tierIds: [], memberGroupIds: [] }, { tierId: null, groupIds: null })).toBe(true);
    expect(inAudience({ tierIds: ['gold'], memberGroupIds: [] }, { tierId: null, groupIds: null })).toBe(false);
  });

  it('lets a member in a listed segment in, like a listed group, and nobody else', () => {
    const forSegment = { tierIds: [], memberGroupIds: [], segmentIds: ['vip'] };
    expect(inAudience(forSegment, { tierId: null, groupIds: null, segmentIds: ['vip'] })).toBe(true);
    expect(inAudience(forSegment, { tierId: null, groupIds: null, segmentIds: ['churning'] })).toBe(false);
    // Never told about: in no segment.
    expect(inAudience(forSegment, { tierId: 'gold', groupIds: ['team'] })).toBe(false);
    // With tiers and groups: any one of them is enough.
    const mixed = { tierIds: ['gold'], memberGroupIds: ['team'], segmentIds: ['vip'] };
    expect(inAudience(mixed, { tierId: 'gold', groupIds: null })).toBe(true);
    expect(inAudience(mixed, { tierId: null, groupIds: ['team'] })).toBe(true);
    expect(inAudience(mixed, { tierId: null, groupIds: null, segmentIds: ['vip'] })).toBe(true);
    expect(inAudience(mixed, { tierId: 'silver', groupIds: ['other'], segmentIds: ['other'] })).toBe(false);
  });

  it('says LIMIT_REACHED once the member ordered the limit within the window, not before', () => {
    const limited = reward({ limitCount: 2 });
    const member = (units: number): MemberFacts => ({ tierId: null, availablePoints: 1_000, groupIds: null, orderedUnits: new Map([['r1', units]]) });
    expect(notOrderableReasons(limited, member(1), NOW)).toEqual([]);
    expect(notOrderableReasons(limited, member(2), NOW)).toEqual(['LIMIT_REACHED']);
    expect(notOrderableReasons(reward(), member(5), NOW)).toEqual([]);
  });
});
