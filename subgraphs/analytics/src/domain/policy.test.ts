import { ANONYMOUS, type StaffRole, type Viewer } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { canConfigureAnalytics, canReadProgramKpis, canReconcile } from './policy';

const staff = (roles: StaffRole[], programId: string | null = 'p1'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: 's' });
const service: Viewer = { ...ANONYMOUS, kind: 'SERVICE', subject: 'orders' };
const member: Viewer = { ...ANONYMOUS, kind: 'MEMBER', programId: 'p1', memberId: 'm1', subject: 'idp|ann' };
const partner: Viewer = { ...ANONYMOUS, kind: 'PARTNER', programId: 'p1', partnerId: 'pa1', subject: 'shop' };

describe('canReadProgramKpis', () => {
  it('lets the program’s admins and analysts, and platform operators, read them', () => {
    for (const viewer of [staff(['ADMIN']), staff(['ANALYST']), staff(['ADMIN'], null)]) expect(canReadProgramKpis(viewer, 'p1')).toBe(true);
  });

  it('refuses other programs’ staff, agents, fulfilment, members, partners, services and anonymous callers', () => {
    for (const viewer of [staff(['ADMIN'], 'p2'), staff(['ANALYST'], 'p2'), staff(['AGENT', 'FULFILMENT']), staff(['ANALYST'], null), member, partner, service, ANONYMOUS]) {
      expect(canReadProgramKpis(viewer, 'p1')).toBe(false);
    }
  });
});

describe('canReconcile', () => {
  it('lets the program’s admins and platform operators reconcile, not analysts or other programs', () => {
    expect(canReconcile(staff(['ADMIN']), 'p1')).toBe(true);
    expect(canReconcile(staff(['ADMIN'], null), 'p1')).toBe(true);
    for (const viewer of [staff(['ANALYST']), staff(['ADMIN'], 'p2'), member, partner]) expect(canReconcile(viewer, 'p1')).toBe(false);
  });
});

describe('canConfigureAnalytics', () => {
  it('lets the program’s admins and platform operators change settings and criteria, not analysts or other programs', () => {
    expect(canConfigureAnalytics(staff(['ADMIN']), 'p1')).toBe(true);
    expect(canConfigureAnalytics(staff(['ADMIN'], null), 'p1')).toBe(true);
    for (const viewer of [staff(['ANALYST']), staff(['ADMIN'], 'p2'), staff(['AGENT']), member, partner, service, ANONYMOUS]) expect(canConfigureAnalytics(viewer, 'p1')).toBe(false);
  });
});
