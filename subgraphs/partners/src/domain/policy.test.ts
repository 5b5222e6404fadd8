import { ANONYMOUS, type StaffRole, type Viewer } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { canManagePartners, canReadApiClients, canReadMemberOffers, canReadOffers, canReadPartners, canWriteOffer } from './policy';

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

describe('offers', () => {
  const writer: Viewer = { ...partner, scopes: ['offers:write'] };
  const own = { programId: 'p1', partnerId: 'pa1' };

  it('lets a partner key with offers:write write and read its own partner’s offers only', () => {
    expect(canWriteOffer(writer, own)).toBe(true);
    expect(canReadOffers(writer, own)).toBe(true);
    for (const offer of [{ programId: 'p1', partnerId: 'pa2' }, { programId: 'p1', partnerId: null }, { programId: 'p2', partnerId: 'pa1' }]) {
      expect(canWriteOffer(writer, offer)).toBe(false);
      expect(canReadOffers(writer, offer)).toBe(false);
    }
    expect(canWriteOffer({ ...partner, scopes: ['purchases:write'] }, own)).toBe(false);
  });

  it('lets the program’s admins write any of its offers, agents read them, others nothing', () => {
    for (const offer of [own, { programId: 'p1', partnerId: null }]) {
      expect(canWriteOffer(staff(['ADMIN']), offer)).toBe(true);
      expect(canReadOffers(staff(['AGENT']), offer)).toBe(true);
      expect(canWriteOffer(staff(['AGENT']), offer)).toBe(false);
      for (const viewer of [staff(['ADMIN'], 'p2'), member, service, ANONYMOUS]) expect(canReadOffers(viewer, offer)).toBe(false);
    }
  });

  it('shows a member’s offers to the member and the program’s agents and admins', () => {
    expect(canReadMemberOffers(member, { id: 'm1', programId: 'p1' })).toBe(true);
    expect(canReadMemberOffers(member, { id: 'm2', programId: 'p1' })).toBe(false);
    expect(canReadMemberOffers(staff(['AGENT']), { id: 'm2', programId: 'p1' })).toBe(true);
    for (const viewer of [staff(['AGENT'], 'p2'), staff(['FULFILMENT']), { ...partner, scopes: ['offers:write', 'members:lookup'] }, ANONYMOUS]) expect(canReadMemberOffers(viewer, { id: 'm1', programId: 'p1' })).toBe(false);
  });
});
