import { ANONYMOUS, type StaffRole, type Viewer } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { canActForMember, canManageSurveys, canReadSurveyResults } from './policy';

const staff = (roles: StaffRole[], programId: string | null = 'p1'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: 's' });
const member = (memberId = 'm1', programId = 'p1'): Viewer => ({ ...ANONYMOUS, kind: 'MEMBER', programId, memberId, subject: 'idp|ann' });
const partner: Viewer = { ...ANONYMOUS, kind: 'PARTNER', programId: 'p1', partnerId: 'pa1', subject: 'shop' };
const service: Viewer = { ...ANONYMOUS, kind: 'SERVICE', subject: 'orders' };

describe('survey policy', () => {
  it('lets only the program’s admins (and operators) create and close surveys', () => {
    for (const viewer of [staff(['ADMIN']), staff(['ADMIN'], null)]) expect(canManageSurveys(viewer, 'p1')).toBe(true);
    for (const viewer of [staff(['ANALYST']), staff(['AGENT']), staff(['ADMIN'], 'p2'), member(), partner, service, ANONYMOUS]) expect(canManageSurveys(viewer, 'p1')).toBe(false);
  });

  it('lets admins and analysts read results and free text, not agents, members or partners', () => {
    for (const viewer of [staff(['ADMIN']), staff(['ANALYST']), staff(['ADMIN'], null)]) expect(canReadSurveyResults(viewer, 'p1')).toBe(true);
    for (const viewer of [staff(['AGENT']), staff(['ANALYST'], 'p2'), member(), partner, service]) expect(canReadSurveyResults(viewer, 'p1')).toBe(false);
  });

  it('lets a member act for themself, and agents and admins of their program for them', () => {
    const target = { id: 'm1', programId: 'p1' };
    for (const viewer of [member(), staff(['AGENT']), staff(['ADMIN']), staff(['ADMIN'], null)]) expect(canActForMember(viewer, target)).toBe(true);
    for (const viewer of [member('m2'), member('m1', 'p2'), staff(['ANALYST']), staff(['AGENT'], 'p2'), partner, service, ANONYMOUS]) expect(canActForMember(viewer, target)).toBe(false);
  });
});
