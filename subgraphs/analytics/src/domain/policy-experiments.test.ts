import { ANONYMOUS, type StaffRole, type Viewer } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { canManageExperiments, canReadExperiments } from './policy';

const staff = (roles: StaffRole[], programId: string | null = 'p1'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: 's' });
const member: Viewer = { ...ANONYMOUS, kind: 'MEMBER', programId: 'p1', memberId: 'm1', subject: 'idp|ann' };
const partner: Viewer = { ...ANONYMOUS, kind: 'PARTNER', programId: 'p1', partnerId: 'pa1', subject: 'shop' };

describe('experiments policy', () => {
  it('lets the program’s admins and platform operators manage experiments and the holdout, not analysts', () => {
    expect(canManageExperiments(staff(['ADMIN']), 'p1')).toBe(true);
    expect(canManageExperiments(staff(['ADMIN'], null), 'p1')).toBe(true);
    for (const viewer of [staff(['ANALYST']), staff(['AGENT']), staff(['ADMIN'], 'p2'), member, partner, ANONYMOUS]) expect(canManageExperiments(viewer, 'p1')).toBe(false);
  });

  it('lets admins and analysts of the program read readouts and the business case', () => {
    for (const viewer of [staff(['ADMIN']), staff(['ANALYST']), staff(['ADMIN'], null)]) expect(canReadExperiments(viewer, 'p1')).toBe(true);
    for (const viewer of [staff(['ANALYST'], 'p2'), staff(['AGENT']), member, partner, ANONYMOUS]) expect(canReadExperiments(viewer, 'p1')).toBe(false);
  });
});
