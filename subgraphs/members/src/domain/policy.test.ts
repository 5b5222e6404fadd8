import { ANONYMOUS, type StaffRole, type Viewer } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import {
  canAdministerProgram,
  canAssignTier,
  canChangeStatus,
  canCreatePrograms,
  canEnrol,
  canListEveryProgram,
  canManageMembers,
  canReadMember,
  canReadProgram,
  isSelf,
  type MemberRef,
} from './policy';

const ann: MemberRef = { id: 'm1', programId: 'p1' };

const member = (over: Partial<Viewer> = {}): Viewer => ({ ...ANONYMOUS, kind: 'MEMBER', programId: 'p1', subject: 'idp|ann', memberId: 'm1', ...over });
const staff = (roles: StaffRole[], programId: string | null = 'p1'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: 's' });
const operator = staff(['ADMIN'], null);
const service: Viewer = { ...ANONYMOUS, kind: 'SERVICE', subject: 'rewards' };
const partner: Viewer = { ...ANONYMOUS, kind: 'PARTNER', subject: 'shop', partnerId: 'pa1', programId: 'p1' };

describe('isSelf', () => {
  it('recognises a member by member id', () => {
    expect(isSelf(member(), ann)).toBe(true);
    expect(isSelf(member({ memberId: 'm2' }), ann)).toBe(false);
  });

  it('never matches a member token whose subject enrolled as no member (the kit settles memberId from the subject first)', () => {
    expect(isSelf(member({ memberId: null }), ann)).toBe(false);
    expect(isSelf(member({ memberId: null, subject: null }), ann)).toBe(false);
  });

  it('never matches across programs or for staff', () => {
    expect(isSelf(member({ programId: 'p2' }), ann)).toBe(false);
    expect(isSelf({ ...staff(['ADMIN']), memberId: 'm1' }, ann)).toBe(false);
  });
});

describe('canReadMember', () => {
  it('lets the member, their program’s agents and admins, operators and services read them', () => {
    for (const viewer of [member(), staff(['AGENT']), staff(['ADMIN']), operator, service]) expect(canReadMember(viewer, ann)).toBe(true);
  });

  it('hides the member from other members, other programs’ staff, fulfilment staff, partners and anonymous callers', () => {
    for (const viewer of [member({ memberId: 'm2', subject: 'idp|bob' }), staff(['ADMIN'], 'p2'), staff(['FULFILMENT', 'ANALYST']), partner, ANONYMOUS]) {
      expect(canReadMember(viewer, ann)).toBe(false);
    }
  });
});

describe('canManageMembers', () => {
  it('is for agents and admins of the program, operators and services only', () => {
    expect(canManageMembers(staff(['AGENT']), 'p1')).toBe(true);
    expect(canManageMembers(operator, 'p1')).toBe(true);
    expect(canManageMembers(service, 'p1')).toBe(true);
    expect(canManageMembers(staff(['AGENT']), 'p2')).toBe(false);
    expect(canManageMembers(staff(['ANALYST']), 'p1')).toBe(false);
    expect(canManageMembers(member(), 'p1')).toBe(false);
  });
});

describe('canReadProgram', () => {
  it('lets members see their own program only', () => {
    expect(canReadProgram(member(), 'p1')).toBe(true);
    expect(canReadProgram(member(), 'p2')).toBe(false);
  });

  it('lets any staff role of the program, operators and services see it', () => {
    for (const role of ['ADMIN', 'AGENT', 'FULFILMENT', 'ANALYST'] as const) expect(canReadProgram(staff([role]), 'p1')).toBe(true);
    expect(canReadProgram(operator, 'p2')).toBe(true);
    expect(canReadProgram(service, 'p2')).toBe(true);
    expect(canReadProgram(staff(['ANALYST'], 'p2'), 'p1')).toBe(false);
    expect(canReadProgram(ANONYMOUS, 'p1')).toBe(false);
  });
});

describe('canAdministerProgram', () => {
  it('is for the program’s admins and operators', () => {
    expect(canAdministerProgram(staff(['ADMIN']), 'p1')).toBe(true);
    expect(canAdministerProgram(operator, 'p1')).toBe(true);
    expect(canAdministerProgram(staff(['ADMIN'], 'p2'), 'p1')).toBe(false);
    expect(canAdministerProgram(staff(['AGENT']), 'p1')).toBe(false);
    expect(canAdministerProgram(service, 'p1')).toBe(false);
  });
});

describe('canCreatePrograms', () => {
  it('is for platform operators only, not a program’s own admins', () => {
    expect(canCreatePrograms(operator)).toBe(true);
    expect(canCreatePrograms(staff(['ADMIN']))).toBe(false);
    expect(canCreatePrograms(staff(['AGENT'], null))).toBe(false);
    expect(canCreatePrograms(service)).toBe(false);
  });
});

describe('canChangeStatus', () => {
  it('lets a member only close their own membership', () => {
    expect(canChangeStatus(member(), ann, 'CLOSED')).toBe(true);
    expect(canChangeStatus(member(), ann, 'SUSPENDED')).toBe(false);
    expect(canChangeStatus(member(), ann, 'ACTIVE')).toBe(false);
    expect(canChangeStatus(member({ memberId: 'm2', subject: 'idp|bob' }), ann, 'CLOSED')).toBe(false);
  });

  it('lets the program’s agents and admins, operators and services move it either way', () => {
    for (const viewer of [staff(['AGENT']), staff(['ADMIN']), operator, service]) {
      expect(canChangeStatus(viewer, ann, 'SUSPENDED')).toBe(true);
      expect(canChangeStatus(viewer, ann, 'ACTIVE')).toBe(true);
    }
    expect(canChangeStatus(staff(['AGENT'], 'p2'), ann, 'SUSPENDED')).toBe(false);
  });
});

describe('canAssignTier', () => {
  it('is for those who may edit the member, except the member themself', () => {
    for (const viewer of [staff(['AGENT']), staff(['ADMIN']), operator, service]) expect(canAssignTier(viewer, ann)).toBe(true);
    for (const viewer of [member(), member({ memberId: null }), staff(['AGENT'], 'p2'), staff(['ANALYST']), ANONYMOUS]) expect(canAssignTier(viewer, ann)).toBe(false);
  });
});

describe('canEnrol', () => {
  it('lets a signed-in person enrol in the program their token names, and no other', () => {
    expect(canEnrol(member({ memberId: null }), 'p1')).toBe(true);
    expect(canEnrol(member({ memberId: null }), 'p2')).toBe(false);
  });

  it('lets the program’s agents and admins, operators and services enrol others', () => {
    for (const viewer of [staff(['AGENT']), staff(['ADMIN']), operator, service]) expect(canEnrol(viewer, 'p1')).toBe(true);
    for (const viewer of [staff(['AGENT'], 'p2'), staff(['ANALYST']), partner, ANONYMOUS]) expect(canEnrol(viewer, 'p1')).toBe(false);
  });

  it('lets a partner key with members:enroll enrol in its own program only', () => {
    const enrolling: Viewer = { ...partner, scopes: ['members:enroll'] };
    expect(canEnrol(enrolling, 'p1')).toBe(true);
    expect(canEnrol(enrolling, 'p2')).toBe(false);
    // Other scopes do not stand in for it, and a partner viewer without its partner is no partner.
    expect(canEnrol({ ...partner, scopes: ['members:lookup', 'purchases:write'] }, 'p1')).toBe(false);
    expect(canEnrol({ ...enrolling, partnerId: null }, 'p1')).toBe(false);
  });
});

describe('canListEveryProgram', () => {
  it('is for platform operators; everyone else lists at most their own program', () => {
    expect(canListEveryProgram(operator)).toBe(true);
    for (const viewer of [staff(['ADMIN']), service, member()]) expect(canListEveryProgram(viewer)).toBe(false);
  });
});
