import { DomainError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { COMPLAINT_STATUSES, COMPLAINT_TRANSITIONS, canMoveComplaint, firstDueAt, isFinal, isOverdue, moveComplaint, type ComplaintClock, type ComplaintStatus } from './complaints';

const DAY = 86_400_000;
const t0 = new Date('2026-05-01T10:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * DAY);
const open = (): ComplaintClock => ({ status: 'OPEN', dueAt: firstDueAt(t0, 14), pausedAt: null });

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  throw new Error('not refused');
}

describe('complaint states', () => {
  it('allows exactly the moves of the table; RESOLVED and REJECTED are final', () => {
    const allowed: [ComplaintStatus, ComplaintStatus][] = [
      ['OPEN', 'IN_PROGRESS'],
      ['OPEN', 'WAITING_FOR_MEMBER'],
      ['OPEN', 'RESOLVED'],
      ['OPEN', 'REJECTED'],
      ['IN_PROGRESS', 'WAITING_FOR_MEMBER'],
      ['IN_PROGRESS', 'RESOLVED'],
      ['IN_PROGRESS', 'REJECTED'],
      ['WAITING_FOR_MEMBER', 'IN_PROGRESS'],
      ['WAITING_FOR_MEMBER', 'RESOLVED'],
      ['WAITING_FOR_MEMBER', 'REJECTED'],
    ];
    for (const from of COMPLAINT_STATUSES) {
      for (const to of COMPLAINT_STATUSES) {
        expect(canMoveComplaint(from, to), `${from} → ${to}`).toBe(allowed.some(([a, b]) => a === from && b === to));
      }
    }
    expect(COMPLAINT_STATUSES.filter(isFinal)).toEqual(['RESOLVED', 'REJECTED']);
    expect(Object.keys(COMPLAINT_TRANSITIONS).sort()).toEqual([...COMPLAINT_STATUSES].sort());
  });

  it('refuses moving a closed complaint with COMPLAINT_CLOSED and other moves with INVALID_COMPLAINT_TRANSITION', () => {
    const resolved = moveComplaint(open(), 'RESOLVED', at(1));
    expect(refusal(() => moveComplaint(resolved, 'IN_PROGRESS', at(2)))).toBe('COMPLAINT_CLOSED');
    expect(refusal(() => moveComplaint({ ...open(), status: 'REJECTED' }, 'RESOLVED', at(2)))).toBe('COMPLAINT_CLOSED');
    const started = moveComplaint(open(), 'IN_PROGRESS', at(1));
    expect(refusal(() => moveComplaint(started, 'IN_PROGRESS', at(2)))).toBe('INVALID_COMPLAINT_TRANSITION');
    expect(refusal(() => moveComplaint(started, 'OPEN', at(2)))).toBe('INVALID_COMPLAINT_TRANSITION');
  });
});

describe('the deadline', () => {
  it('is the deadline days after opening', () => {
    expect(firstDueAt(t0, 14)).toEqual(at(14));
    expect(firstDueAt(t0, 1)).toEqual(at(1));
  });

  it('stops while waiting for the member and moves forward by the time waited when the complaint goes on', () => {
    const waiting = moveComplaint(moveComplaint(open(), 'IN_PROGRESS', at(1)), 'WAITING_FOR_MEMBER', at(2));
    expect(waiting).toEqual({ status: 'WAITING_FOR_MEMBER', dueAt: at(14), pausedAt: at(2) });
    const replied = moveComplaint(waiting, 'IN_PROGRESS', at(7));
    expect(replied).toEqual({ status: 'IN_PROGRESS', dueAt: at(19), pausedAt: null });
    // Waiting twice adds both waits.
    const again = moveComplaint(moveComplaint(replied, 'WAITING_FOR_MEMBER', at(8)), 'IN_PROGRESS', at(9.5));
    expect(again.dueAt).toEqual(at(20.5));
  });

  it('closing while waiting also adds the wait (the record shows when it would have been due)', () => {
    const waiting = moveComplaint(open(), 'WAITING_FOR_MEMBER', at(3));
    expect(moveComplaint(waiting, 'REJECTED', at(5))).toEqual({ status: 'REJECTED', dueAt: at(16), pausedAt: null });
  });

  it('never moves backwards when the clock did', () => {
    const waiting = moveComplaint(open(), 'WAITING_FOR_MEMBER', at(3));
    expect(moveComplaint(waiting, 'IN_PROGRESS', at(2)).dueAt).toEqual(at(14));
  });
});

describe('overdue', () => {
  it('is an open complaint whose running deadline has come (the instant itself included)', () => {
    expect(isOverdue(open(), at(13.9))).toBe(false);
    expect(isOverdue(open(), at(14))).toBe(true);
    expect(isOverdue(moveComplaint(open(), 'IN_PROGRESS', at(1)), at(20))).toBe(true);
  });

  it('is never a complaint waiting for the member, nor a closed one', () => {
    expect(isOverdue(moveComplaint(open(), 'WAITING_FOR_MEMBER', at(1)), at(30))).toBe(false);
    expect(isOverdue(moveComplaint(open(), 'RESOLVED', at(1)), at(30))).toBe(false);
    expect(isOverdue(moveComplaint(open(), 'REJECTED', at(1)), at(30))).toBe(false);
  });
});
