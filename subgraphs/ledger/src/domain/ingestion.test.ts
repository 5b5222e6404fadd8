import { describe, expect, it } from 'vitest';
import { ANONYMOUS, InputError, type Viewer } from '@loyalty-graph/shared';
import { bulkSource, checkLineCount, checkMemberChoice, duplicateTransactions, isPartnerSource, partnerSource, transactionKey } from './ingestion';
import { LIMITS } from './limits';

const partner: Viewer = { ...ANONYMOUS, kind: 'PARTNER', subject: 'client-1', programId: 'p1', partnerId: 'a1', scopes: ['purchases:write'] };
const agent: Viewer = { ...ANONYMOUS, kind: 'STAFF', subject: 'agent', programId: 'p1', roles: ['AGENT'] };
const fieldOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error.field;
    throw error;
  }
  return null;
};

describe('transaction keys', () => {
  it('are one per (source, transaction id), valid idempotency keys whatever the id’s length', () => {
    const key = transactionKey(partnerSource('a1'), 'T-1');
    expect(key).toBe(transactionKey('partner:a1', 'T-1'));
    expect(key).not.toBe(transactionKey(partnerSource('b2'), 'T-1'));
    expect(key).not.toBe(transactionKey(partnerSource('a1'), 'T-2'));
    // No concatenation ambiguity: ("a", "b:c") and ("a:b", "c") differ.
    expect(transactionKey('a', 'b:c')).not.toBe(transactionKey('a:b', 'c'));
    expect(transactionKey('s', 'x'.repeat(LIMITS.externalIdLength))).toMatch(/^[\w.:-]{8,100}$/);
  });
});

describe('member choice', () => {
  it('takes exactly one of memberId and member, naming the field otherwise', () => {
    expect(checkMemberChoice({ memberId: 'm1' })).toEqual({ memberId: 'm1' });
    expect(checkMemberChoice({ member: { type: 'CARD', value: 'LG1234' }, memberId: null })).toEqual({ identifier: { type: 'CARD', value: 'LG1234' } });
    expect(fieldOf(() => checkMemberChoice({}))).toBe('memberId');
    expect(fieldOf(() => checkMemberChoice({ memberId: 'm1', member: { type: 'CARD', value: 'LG1234' } }, 'lines.3.'))).toBe('lines.3.member');
    expect(fieldOf(() => checkMemberChoice({ member: { type: 'EMAIL', value: '' } }))).toBe('member.value');
    expect(fieldOf(() => checkMemberChoice({ member: { type: 'EMAIL', value: 'a'.repeat(LIMITS.identifierLength + 1) } }))).toBe('member.value');
  });
});

describe('bulk calls', () => {
  it('a partner’s source is its own; staff name one, never a partner’s', () => {
    expect(bulkSource(partner, null)).toBe('partner:a1');
    expect(isPartnerSource(bulkSource(partner, null))).toBe(true);
    expect(bulkSource(agent, 'store-7')).toBe('store-7');
    expect(fieldOf(() => bulkSource(agent, null))).toBe('source');
    expect(fieldOf(() => bulkSource(agent, 'partner:a1'))).toBe('source');
    expect(fieldOf(() => bulkSource(agent, 'x'.repeat(LIMITS.sourceLength + 1)))).toBe('source');
  });

  it('take 1 to 1,000 lines', () => {
    expect(fieldOf(() => checkLineCount(0))).toBe('lines');
    expect(fieldOf(() => checkLineCount(LIMITS.bulkPurchaseLines + 1))).toBe('lines');
    expect(fieldOf(() => checkLineCount(LIMITS.bulkPurchaseLines))).toBeNull();
  });

  it('a transaction id repeated in a call: the later lines point at the first', () => {
    expect([...duplicateTransactions(['a', 'b', 'a', 'c', 'b', 'a'])]).toEqual([
      [2, 0],
      [4, 1],
      [5, 0],
    ]);
    expect(duplicateTransactions(['a', 'b']).size).toBe(0);
  });
});
