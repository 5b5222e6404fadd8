import { ANONYMOUS, type StaffRole, type Viewer } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { canManagePartners, canReadApiClients, canReadPartners } from './policy';

const staff = (roles: StaffRole[], programId: string | null = 'p1'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: 's' });
const service: Viewer = { ...ANONYMOUS, kind: 'SERVICE', subject: 'gateway' };
const member: Viewer = { ...ANONYMOUS, kind: 'MEMBER', programId: 'p1', memberId: 'm1', subject: 'idp|ann' };
const partner: Viewer = { ...ANONYMOUS, kind: 'PARTNER', programId: 'p1', partnerId: 'pa1', subject: 'shop' };

describe('canReadPartners', () => {
  it('lets the program’s agents and admins, platform operators and internal services read them', () => {
    for (const viewer of [staff(['AGENT']), staff(['ADMIN']), staff(['ADMIN'], null), service]) expect(canReadPartners(viewer, 'p1')).toBe(true);
  });

  it('hides them from other programs’ staff, other staff roles, members, partners and anonymous callers', () => {
    for (const viewer of [staff(['ADMIN'], 'p2'), staff(['FULFILMENT', 'ANALYST']), staff(['AGENT'], null), member, partner, ANONYMOUS]) expect(canReadPartners(viewer, 'p1')).toBe(false);
  });
});

describe('canManagePartners and canReadApiClients', () => {
  it('are the program’s admins and platform operators only', () => {
    for (const check of [canManagePartners, canReadApiClients]) {
      expect(check(staff(['ADMIN']), 'p1')).toBe(true);
      expect(check(staff(['ADMIN'], null), 'p1')).toBe(true);
      for (const viewer of [staff(['AGENT']), staff(['ADMIN'], 'p2'), service, member, partner, ANONYMOUS]) expect(check(viewer, 'p1')).toBe(false);
    }
  });
});
