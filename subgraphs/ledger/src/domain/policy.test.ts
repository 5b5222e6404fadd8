import { ANONYMOUS, type StaffRole, type Viewer } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import {
  canConfigure,
  canDonateFor,
  canFundPurchase,
  canOperate,
  canReadAccount,
  canReadCharities,
  canReadEntry,
  canReadLedgerJobs,
  canReadMemberRecord,
  canReadMemberPoints,
  canReadPartnerFunding,
  canReadProgramLedger,
  canReadPurchase,
  canRecordPurchase,
  canReinstateExpiry,
  canSeeLineAccount,
  canSeeMembersOf,
  canSeeWhoActed,
  canSpendFor,
  seesEveryLine,
} from './policy';

const member = (over: Partial<Viewer> = {}): Viewer => ({ ...ANONYMOUS, kind: 'MEMBER', programId: 'p1', subject: 'idp|ann', memberId: 'm1', ...over });
const staff = (roles: StaffRole[], programId: string | null = 'p1', subject = 'agent-1'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject });
const operator = staff(['ADMIN'], null);
const service: Viewer = { ...ANONYMOUS, kind: 'SERVICE', subject: 'rewards' };
const partner: Viewer = { ...ANONYMOUS, kind: 'PARTNER', subject: 'shop', partnerId: 'pa1', programId: 'p1' };

describe('canReadMemberPoints', () => {
  it('lets the member, their program’s agents and admins, operators and services read them', () => {
    for (const viewer of [member(), staff(['AGENT']), staff(['ADMIN']), operator, service]) expect(canReadMemberPoints(viewer, 'm1', 'p1')).toBe(true);
  });

  it('hides them from other members, the same member id in another program, analysts, other programs’ staff, partners and anonymous callers', () => {
    for (const viewer of [member({ memberId: 'm2' }), member({ programId: 'p2' }), staff(['ANALYST']), staff(['ADMIN'], 'p2'), partner, ANONYMOUS]) {
      expect(canReadMemberPoints(viewer, 'm1', 'p1')).toBe(false);
    }
  });
});

describe('canOperate', () => {
  it('is for the program’s agents and admins, operators and services', () => {
    for (const viewer of [staff(['AGENT']), staff(['ADMIN']), operator, service]) expect(canOperate(viewer, 'p1')).toBe(true);
    for (const viewer of [member(), staff(['AGENT'], 'p2'), staff(['ANALYST', 'FULFILMENT']), partner, ANONYMOUS]) expect(canOperate(viewer, 'p1')).toBe(false);
  });
});

describe('canSpendFor', () => {
  it('lets a member spend only their own points, and the program’s agents and admins anyone’s there', () => {
    expect(canSpendFor(member(), 'm1', 'p1')).toBe(true);
    expect(canSpendFor(member(), 'm2', 'p1')).toBe(false);
    expect(canSpendFor(member({ programId: 'p2' }), 'm1', 'p1')).toBe(false);
    for (const viewer of [staff(['AGENT']), staff(['ADMIN']), operator]) expect(canSpendFor(viewer, 'm1', 'p1')).toBe(true);
  });

  it('is not for services, analysts, other programs’ staff, partners or anonymous callers', () => {
    for (const viewer of [service, staff(['ANALYST']), staff(['AGENT'], 'p2'), partner, ANONYMOUS]) expect(canSpendFor(viewer, 'm1', 'p1')).toBe(false);
  });
});

describe('canDonateFor', () => {
  it('adds internal services (the catalog’s CHARITY rewards) to whoever may spend the member’s points', () => {
    for (const viewer of [member(), staff(['AGENT']), staff(['ADMIN']), operator, service]) expect(canDonateFor(viewer, 'm1', 'p1')).toBe(true);
  });

  it('is not for other members, analysts, other programs’ staff, partners or anonymous callers', () => {
    for (const viewer of [member({ memberId: 'm2' }), member({ programId: 'p2' }), staff(['ANALYST']), staff(['AGENT'], 'p2'), partner, ANONYMOUS]) {
      expect(canDonateFor(viewer, 'm1', 'p1')).toBe(false);
    }
  });
});

describe('canReinstateExpiry', () => {
  it('is for the program’s agents and admins (and operators), never a service', () => {
    for (const viewer of [staff(['AGENT']), staff(['ADMIN']), operator]) expect(canReinstateExpiry(viewer, 'p1')).toBe(true);
    for (const viewer of [service, member(), staff(['AGENT'], 'p2'), staff(['ANALYST'])]) expect(canReinstateExpiry(viewer, 'p1')).toBe(false);
  });
});

describe('canConfigure', () => {
  it('is for the program’s admins and operators only', () => {
    expect(canConfigure(staff(['ADMIN']), 'p1')).toBe(true);
    expect(canConfigure(operator, 'p1')).toBe(true);
    for (const viewer of [staff(['AGENT']), staff(['ADMIN'], 'p2'), service, member()]) expect(canConfigure(viewer, 'p1')).toBe(false);
  });
});

describe('canReadProgramLedger and canReadCharities', () => {
  it('open a program’s ledger to its agents, admins, analysts, operators and services', () => {
    for (const viewer of [staff(['AGENT']), staff(['ADMIN']), staff(['ANALYST']), operator, service]) {
      expect(canReadProgramLedger(viewer, 'p1')).toBe(true);
      expect(canReadCharities(viewer, 'p1')).toBe(true);
    }
  });

  it('show its charities, not its ledger, to the program’s own members', () => {
    expect(canReadProgramLedger(member(), 'p1')).toBe(false);
    expect(canReadCharities(member(), 'p1')).toBe(true);
    expect(canReadCharities(member({ programId: 'p2' }), 'p1')).toBe(false);
  });

  it('close both to other programs’ staff, fulfilment, partners and anonymous callers', () => {
    for (const viewer of [staff(['ADMIN'], 'p2'), staff(['FULFILMENT']), partner, ANONYMOUS]) {
      expect(canReadProgramLedger(viewer, 'p1')).toBe(false);
      expect(canReadCharities(viewer, 'p1')).toBe(false);
    }
  });
});

describe('canReadLedgerJobs', () => {
  it('is for platform operators only, not a program’s admins or services', () => {
    expect(canReadLedgerJobs(operator)).toBe(true);
    for (const viewer of [staff(['ADMIN']), staff(['AGENT'], null), service, member()]) expect(canReadLedgerJobs(viewer)).toBe(false);
  });
});

describe('canReadEntry', () => {
  const mine = { memberId: 'm1', programId: 'p1' };
  const programs = { memberId: null, programId: 'p1' };

  it('reads an entry about a member like their points', () => {
    expect(canReadEntry(member(), mine)).toBe(true);
    expect(canReadEntry(member({ memberId: 'm2' }), mine)).toBe(false);
    expect(canReadEntry(staff(['AGENT']), mine)).toBe(true);
    expect(canReadEntry(staff(['ANALYST']), mine)).toBe(false);
  });

  it('shows a program’s own entry to any of its staff only, not to members, operators or services', () => {
    expect(canReadEntry(staff(['ANALYST']), programs)).toBe(true);
    for (const viewer of [member(), staff(['ADMIN'], 'p2'), operator, service]) expect(canReadEntry(viewer, programs)).toBe(false);
  });
});

describe('an entry’s lines and author', () => {
  const ownReward = { kind: 'MEMBER_REWARD', ownerId: 'm1' };
  const othersReward = { kind: 'MEMBER_REWARD', ownerId: 'm2' };
  const charity = { kind: 'CHARITY', ownerId: 'c1' };

  it('shows staff and services every line', () => {
    for (const viewer of [staff(['AGENT']), service]) {
      expect(seesEveryLine(viewer)).toBe(true);
      expect(canSeeLineAccount(viewer, othersReward)).toBe(true);
    }
  });

  it('shows a member their own accounts and the program’s, never another member’s', () => {
    expect(seesEveryLine(member())).toBe(false);
    expect(canSeeLineAccount(member(), ownReward)).toBe(true);
    expect(canSeeLineAccount(member(), charity)).toBe(true);
    expect(canSeeLineAccount(member(), othersReward)).toBe(false);
  });

  it('names who acted to staff, and to a member only when it was them', () => {
    expect(canSeeWhoActed(staff(['AGENT']), { createdBy: 'agent-7' })).toBe(true);
    expect(canSeeWhoActed(member(), { createdBy: 'agent-7' })).toBe(false);
    expect(canSeeWhoActed(member(), { createdBy: 'idp|ann' })).toBe(true);
  });
});

describe('canReadAccount', () => {
  const own = { programId: 'p1', kind: 'MEMBER_REWARD', ownerId: 'm1' };
  const programs = { programId: 'p1', kind: 'CHARITY', ownerId: 'c1' };
  it('lets services and platform operators read any account, staff their program’s, members their own and the program’s', () => {
    for (const viewer of [service, operator, staff(['AGENT']), staff(['ANALYST'])]) expect(canReadAccount(viewer, own)).toBe(true);
    expect(canReadAccount(member(), own)).toBe(true);
    expect(canReadAccount(member({ memberId: 'm2' }), programs)).toBe(true);
  });
  it('refuses anonymous callers, other programs and other members’ accounts', () => {
    for (const viewer of [ANONYMOUS, partner, member({ programId: 'p2' }), staff(['ADMIN'], 'p2'), member({ memberId: 'm2' }), member({ memberId: null })]) {
      expect(canReadAccount(viewer, own)).toBe(false);
    }
    expect(canReadAccount(ANONYMOUS, programs)).toBe(false);
  });
});

describe('canReadMemberRecord', () => {
  it('reads a purchase or hold like its member’s points', () => {
    const record = { memberId: 'm1', programId: 'p1' };
    for (const viewer of [service, operator, member(), staff(['AGENT'])]) expect(canReadMemberRecord(viewer, record)).toBe(true);
    for (const viewer of [ANONYMOUS, partner, member({ memberId: 'm2' }), staff(['AGENT'], 'p2'), staff(['FULFILMENT'])]) expect(canReadMemberRecord(viewer, record)).toBe(false);
  });
});

describe('partners and purchases', () => {
  const writer = (over: Partial<Viewer> = {}): Viewer => ({ ...partner, scopes: ['purchases:write'], ...over });
  const purchase = { memberId: 'm1', programId: 'p1', partnerId: 'pa1' };

  it('lets a partner key with purchases:write record in its own program, besides those who operate', () => {
    expect(canRecordPurchase(writer(), 'p1')).toBe(true);
    for (const viewer of [staff(['AGENT']), staff(['ADMIN']), operator, service]) expect(canRecordPurchase(viewer, 'p1')).toBe(true);
  });

  it('refuses a partner key without the scope, or in another program, and whoever may not operate', () => {
    for (const viewer of [partner, writer({ scopes: ['purchases:read'] }), writer({ programId: 'p2' }), member(), staff(['ANALYST']), ANONYMOUS]) {
      expect(canRecordPurchase(viewer, 'p1')).toBe(false);
    }
  });

  it('hides other programs’ members from a partner only', () => {
    expect(canSeeMembersOf(writer(), 'p1')).toBe(true);
    expect(canSeeMembersOf(writer(), 'p2')).toBe(false);
    expect(canSeeMembersOf(staff(['AGENT']), 'p2')).toBe(true);
  });

  it('makes a partner fund its own purchases: never another partner’s, never the program’s', () => {
    expect(canFundPurchase(writer(), 'pa1')).toBe(true);
    expect(canFundPurchase(writer(), 'pa2')).toBe(false);
    expect(canFundPurchase(writer(), null)).toBe(false);
    for (const partnerId of ['pa2', null]) expect(canFundPurchase(staff(['AGENT']), partnerId)).toBe(true);
  });

  it('lets a partner read back its own purchases with purchases:read or purchases:write', () => {
    expect(canReadPurchase(writer(), purchase)).toBe(true);
    expect(canReadPurchase(writer({ scopes: ['purchases:read'] }), purchase)).toBe(true);
    // and the rest as before: like the member's points
    for (const viewer of [service, member(), staff(['AGENT'])]) expect(canReadPurchase(viewer, purchase)).toBe(true);
  });

  it('hides from a partner other partners’ purchases, the program’s own, other programs’, and all without a purchases scope', () => {
    expect(canReadPurchase(writer(), { ...purchase, partnerId: 'pa2' })).toBe(false);
    expect(canReadPurchase(writer(), { ...purchase, partnerId: null })).toBe(false);
    expect(canReadPurchase(writer({ programId: 'p2' }), purchase)).toBe(false);
    expect(canReadPurchase(writer({ scopes: ['settlement:read'] }), purchase)).toBe(false);
  });

  it('shows a partner only its own funding line of an entry, and by reference only its own funding account', () => {
    expect(seesEveryLine(writer())).toBe(false);
    expect(canSeeLineAccount(writer(), { kind: 'MEMBER_REWARD', ownerId: 'm1' })).toBe(false);
    expect(canSeeLineAccount(writer(), { kind: 'PARTNER_FUNDING', ownerId: 'pa1' })).toBe(true);
    expect(canSeeLineAccount(writer(), { kind: 'PARTNER_FUNDING', ownerId: 'pa2' })).toBe(false);
    expect(canSeeLineAccount(writer(), { kind: 'STATUS_ISSUANCE', ownerId: null })).toBe(false);
    expect(canSeeLineAccount(writer(), null)).toBe(false);
    expect(canReadAccount(writer(), { programId: 'p1', kind: 'PARTNER_FUNDING', ownerId: 'pa1' })).toBe(true);
    expect(canReadAccount(writer(), { programId: 'p1', kind: 'PARTNER_FUNDING', ownerId: 'pa2' })).toBe(false);
    expect(canReadAccount(writer(), { programId: 'p1', kind: 'ISSUANCE', ownerId: null })).toBe(false);
  });
});

describe('a partner’s funding', () => {
  it('the program’s admins and agents, operators and services; the partner itself; no one else', () => {
    expect(canReadPartnerFunding(staff(['ADMIN']), 'p1', 'pa1')).toBe(true);
    expect(canReadPartnerFunding(staff(['AGENT']), 'p1', 'pa1')).toBe(true);
    expect(canReadPartnerFunding(operator, 'p1', 'pa1')).toBe(true);
    expect(canReadPartnerFunding(service, 'p1', 'pa1')).toBe(true);
    expect(canReadPartnerFunding(partner, 'p1', 'pa1')).toBe(true);
    expect(canReadPartnerFunding(staff(['ANALYST']), 'p1', 'pa1')).toBe(false);
    expect(canReadPartnerFunding(staff(['ADMIN'], 'p2'), 'p1', 'pa1')).toBe(false);
    expect(canReadPartnerFunding(partner, 'p1', 'pa2')).toBe(false);
    expect(canReadPartnerFunding({ ...partner, programId: 'p2' }, 'p1', 'pa1')).toBe(false);
    expect(canReadPartnerFunding(member(), 'p1', 'pa1')).toBe(false);
  });
});
