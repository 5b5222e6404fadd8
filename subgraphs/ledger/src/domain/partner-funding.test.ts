import { describe, expect, it } from 'vitest';
import { admits, fundingState, prepaidSince, termsInForce, type FundingFacts, type FundingTerms } from './partner-funding';

const day = (n: number) => new Date(Date.UTC(2026, 0, n));
const terms = (version: number, from: Date, prepaidPoints: number | null, creditLimitPoints: number | null = null): FundingTerms => ({ version, effectiveFrom: from, prepaidPoints, creditLimitPoints });
const facts = (over: Partial<FundingFacts>): FundingFacts => ({ terms: [], topUps: [], issued: { total: 0, sincePrepaid: 0 }, settled: 0, ...over });

describe('partner funding: which terms apply', () => {
  it('the latest version effective at the time; none before the first; a future one not yet', () => {
    const versions = [terms(1, day(1), 100), terms(2, day(10), null, 50)];
    expect(termsInForce(versions, day(0))).toBeNull();
    expect(termsInForce(versions, day(5))?.version).toBe(1);
    expect(termsInForce(versions, day(10))?.version).toBe(2);
  });

  it('no terms at all, or terms without a block or limit, are unlimited', () => {
    expect(fundingState(facts({ issued: { total: 1e9, sincePrepaid: 0 } }), day(5))).toMatchObject({ mode: 'UNLIMITED', remaining: null });
    expect(fundingState(facts({ terms: [terms(1, day(1), null)] }), day(5))).toMatchObject({ mode: 'UNLIMITED', remaining: null });
    expect(admits(fundingState(facts({}), day(5)), 2_000_000_000)).toBe(true);
  });
});

describe('partner funding: PREPAID', () => {
  it('remaining = blocks in effect (versions and top-ups) − net issued since the first prepaid terms', () => {
    const state = fundingState(facts({ terms: [terms(1, day(1), 1000)], topUps: [{ points: 500, addedAt: day(3) }], issued: { total: 5000, sincePrepaid: 1200 } }), day(5));
    expect(state).toMatchObject({ mode: 'PREPAID', prepaidPoints: 1500, netIssued: 1200, remaining: 300 });
    expect(admits(state, 300)).toBe(true);
    expect(admits(state, 301)).toBe(false);
  });

  it('a later prepaid version adds its block; a version not yet in effect adds nothing', () => {
    const versions = [terms(1, day(1), 1000), terms(2, day(10), 400)];
    expect(fundingState(facts({ terms: versions }), day(5)).prepaidPoints).toBe(1000);
    expect(fundingState(facts({ terms: versions }), day(10)).prepaidPoints).toBe(1400);
  });

  it('issuance counts from the first prepaid terms in effect', () => {
    const versions = [terms(1, day(1), null, 10), terms(2, day(5), 100), terms(3, day(9), 50)];
    expect(prepaidSince(versions, day(4))).toBeNull();
    expect(prepaidSince(versions, day(12))).toEqual(day(5));
  });

  it('a return gives room back (net issued falls); issued beyond the blocks leaves a negative remainder and admits nothing', () => {
    const base = { terms: [terms(1, day(1), 100)] };
    expect(fundingState(facts({ ...base, issued: { total: 100, sincePrepaid: 100 } }), day(2)).remaining).toBe(0);
    expect(fundingState(facts({ ...base, issued: { total: 60, sincePrepaid: 60 } }), day(2)).remaining).toBe(40);
    const over = fundingState(facts({ ...base, issued: { total: 130, sincePrepaid: 130 } }), day(2));
    expect(over.remaining).toBe(-30);
    expect(admits(over, 1)).toBe(false);
  });

  it('settled points do not give prepaid room (the block was paid in advance)', () => {
    expect(fundingState(facts({ terms: [terms(1, day(1), 100)], issued: { total: 100, sincePrepaid: 100 }, settled: 100 }), day(2)).remaining).toBe(0);
  });
});

describe('partner funding: CREDIT', () => {
  it('remaining = limit − (net issued ever − settled)', () => {
    const state = fundingState(facts({ terms: [terms(1, day(1), null, 1000)], issued: { total: 900, sincePrepaid: 0 }, settled: 0 }), day(2));
    expect(state).toMatchObject({ mode: 'CREDIT', creditLimitPoints: 1000, netIssued: 900, remaining: 100 });
    expect(admits(state, 101)).toBe(false);
    const paid = fundingState(facts({ terms: [terms(1, day(1), null, 1000)], issued: { total: 900, sincePrepaid: 0 }, settled: 600 }), day(2));
    expect(paid.remaining).toBe(700);
    expect(admits(paid, 700)).toBe(true);
  });

  it('a switch from PREPAID to CREDIT ignores the blocks; back to unlimited ignores both', () => {
    const versions = [terms(1, day(1), 100), terms(2, day(5), null, 20), terms(3, day(9), null)];
    const issued = { total: 110, sincePrepaid: 110 };
    expect(fundingState(facts({ terms: versions, issued }), day(6))).toMatchObject({ mode: 'CREDIT', remaining: -90 });
    expect(fundingState(facts({ terms: versions, issued }), day(9))).toMatchObject({ mode: 'UNLIMITED', remaining: null });
  });
});
