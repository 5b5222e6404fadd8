import { ANONYMOUS, type StaffRole, type Viewer } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { canArchiveSegments, canManageSegments, canReadSegments, memberSegmentsView } from './policy';

const staff = (roles: StaffRole[], programId: string | null = 'p1'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: 's' });
const member = (memberId = 'm1', programId = 'p1'): Viewer => ({ ...ANONYMOUS, kind: 'MEMBER', programId, memberId, subject: 'idp|ann' });
const partner: Viewer = { ...ANONYMOUS, kind: 'PARTNER', programId: 'p1', partnerId: 'pa1', subject: 'shop' };

describe('segment policy', () => {
  it('lets admins and analysts manage segments, only admins archive them, and agents read them too', () => {
    expect([staff(['ADMIN']), staff(['ANALYST']), staff(['ADMIN'], null)].map((v) => canManageSegments(v, 'p1'))).toEqual([true, true, true]);
    expect([staff(['AGENT']), staff(['ADMIN'], 'p2'), member(), partner].map((v) => canManageSegments(v, 'p1'))).toEqual([false, false, false, false]);
    expect([staff(['ADMIN']), staff(['ADMIN'], null), staff(['ANALYST'])].map((v) => canArchiveSegments(v, 'p1'))).toEqual([true, true, false]);
    expect([staff(['AGENT']), staff(['ANALYST']), staff(['ADMIN']), staff(['AGENT'], 'p2'), staff(['FULFILMENT']), member()].map((v) => canReadSegments(v, 'p1'))).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('shows a member all their segments to staff, the visible ones to themself when the program allows, none when it does not, and refuses anyone else', () => {
    const ann = { id: 'm1', programId: 'p1' };
    expect(memberSegmentsView(staff(['AGENT']), ann, false)).toBe('ALL');
    expect(memberSegmentsView(member(), ann, true)).toBe('VISIBLE');
    expect(memberSegmentsView(member(), ann, false)).toBe('NONE');
    for (const viewer of [member('m2'), member('m1', 'p2'), staff(['ADMIN'], 'p2'), partner, ANONYMOUS]) expect(memberSegmentsView(viewer, ann, true)).toBeNull();
  });
});
