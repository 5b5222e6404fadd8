import { ANONYMOUS, type StaffRole, type Viewer } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { canHandleComplaints, canManageCatalog, canReadCatalog, canReadComplaint, canReadMemberCatalogs, canSeeWholeCode } from './policy';

const staff = (roles: StaffRole[], programId: string | null = 'p1'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: 's' });
const service: Viewer = { ...ANONYMOUS, kind: 'SERVICE', subject: 'orders' };
const member = (memberId = 'm1', programId = 'p1'): Viewer => ({ ...ANONYMOUS, kind: 'MEMBER', programId, memberId, subject: 'idp|ann' });
const partner: Viewer = { ...ANONYMOUS, kind: 'PARTNER', programId: 'p1', partnerId: 'pa1', subject: 'shop' };

describe('canReadCatalog', () => {
  it('lets the program’s agents and admins, platform operators and internal services read rewards and catalogs', () => {
    for (const viewer of [staff(['AGENT']), staff(['ADMIN']), staff(['ADMIN'], null), service]) expect(canReadCatalog(viewer, 'p1')).toBe(true);
  });

  it('hides them from other programs’ staff, other staff roles, members, partners and anonymous callers', () => {
    for (const viewer of [staff(['ADMIN'], 'p2'), staff(['FULFILMENT', 'ANALYST']), staff(['AGENT'], null), member(), partner, ANONYMOUS]) {
      expect(canReadCatalog(viewer, 'p1')).toBe(false);
    }
  });
});

describe('canManageCatalog', () => {
  it('is for the program’s admins and platform operators only', () => {
    expect(canManageCatalog(staff(['ADMIN']), 'p1')).toBe(true);
    expect(canManageCatalog(staff(['ADMIN'], null), 'p1')).toBe(true);
    for (const viewer of [staff(['AGENT']), staff(['ADMIN'], 'p2'), staff(['FULFILMENT']), service, member(), partner, ANONYMOUS]) expect(canManageCatalog(viewer, 'p1')).toBe(false);
  });
});

describe('canReadMemberCatalogs', () => {
  it('lets a member see their own, and the program’s agents and admins anyone’s', () => {
    for (const viewer of [member(), staff(['AGENT']), staff(['ADMIN']), service]) expect(canReadMemberCatalogs(viewer, 'm1', 'p1')).toBe(true);
  });

  it('refuses another member, a member of another program and other programs’ staff', () => {
    for (const viewer of [member('m2'), member('m1', 'p2'), staff(['AGENT'], 'p2'), staff(['FULFILMENT']), ANONYMOUS]) expect(canReadMemberCatalogs(viewer, 'm1', 'p1')).toBe(false);
  });
});

describe('canSeeWholeCode', () => {
  it('is for the member the code was issued to only: never staff, services, another member or another program', () => {
    expect(canSeeWholeCode(member(), { memberId: 'm1', programId: 'p1' })).toBe(true);
    for (const viewer of [member('m2'), member('m1', 'p2'), staff(['ADMIN']), staff(['AGENT']), staff(['ADMIN'], null), service, partner, ANONYMOUS]) {
      expect(canSeeWholeCode(viewer, { memberId: 'm1', programId: 'p1' })).toBe(false);
    }
  });
});

describe('complaints', () => {
  it('are worked by the program’s agents and admins (and platform operators) only', () => {
    for (const viewer of [staff(['AGENT']), staff(['ADMIN']), staff(['ADMIN'], null)]) expect(canHandleComplaints(viewer, 'p1')).toBe(true);
    for (const viewer of [staff(['AGENT'], 'p2'), staff(['FULFILMENT']), staff(['ANALYST']), service, member(), partner, ANONYMOUS]) expect(canHandleComplaints(viewer, 'p1')).toBe(false);
  });

  it('are read by their member, the program’s agents and admins and services; not by fulfilment, other members or other programs', () => {
    const complaint = { memberId: 'm1', programId: 'p1' };
    for (const viewer of [member(), staff(['AGENT']), staff(['ADMIN']), service]) expect(canReadComplaint(viewer, complaint)).toBe(true);
    for (const viewer of [member('m2'), member('m1', 'p2'), staff(['FULFILMENT']), staff(['AGENT'], 'p2'), partner, ANONYMOUS]) expect(canReadComplaint(viewer, complaint)).toBe(false);
  });
});
