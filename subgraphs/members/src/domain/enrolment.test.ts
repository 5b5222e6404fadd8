import { ANONYMOUS, DomainError, type Viewer } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { assertEnrolmentIdentifiers, enrolmentChannel, enrolmentConsentSource, partnerMemberView, verifiedAtEnrolment } from './enrolment';

const partner: Viewer = { ...ANONYMOUS, kind: 'PARTNER', subject: 'till', partnerId: 'pa1', programId: 'p1', scopes: ['members:enroll'] };
const agent: Viewer = { ...ANONYMOUS, kind: 'STAFF', subject: 'agent', programId: 'p1', roles: ['AGENT'] };
const person: Viewer = { ...ANONYMOUS, kind: 'MEMBER', subject: 'idp|ann', programId: 'p1' };

const codeOf = (work: () => void): string | null => {
  try {
    work();
    return null;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
};

describe('enrolment channel', () => {
  it('is SELF for a person, PARTNER for a partner key, AGENT for staff', () => {
    expect(enrolmentChannel(person)).toBe('SELF');
    expect(enrolmentChannel(partner)).toBe('PARTNER');
    expect(enrolmentChannel(agent)).toBe('AGENT');
  });
});

describe('identifiers at enrolment', () => {
  it('trusts a partner’s card at once, but not an email or phone its cashier typed', () => {
    expect(verifiedAtEnrolment('PARTNER', 'CARD')).toBe(true);
    expect(verifiedAtEnrolment('PARTNER', 'EMAIL')).toBe(false);
    expect(verifiedAtEnrolment('PARTNER', 'PHONE')).toBe(false);
  });

  it('trusts staff for every type and a person for none (codes confirm them)', () => {
    for (const type of ['CARD', 'EMAIL', 'PHONE'] as const) {
      expect(verifiedAtEnrolment('AGENT', type)).toBe(true);
      expect(verifiedAtEnrolment('SELF', type)).toBe(false);
    }
  });

  it('requires a card from a partner, so a retried enrolment meets its own card instead of enrolling twice', () => {
    expect(codeOf(() => assertEnrolmentIdentifiers('PARTNER', ['EMAIL', 'PHONE']))).toBe('CARD_REQUIRED');
    expect(codeOf(() => assertEnrolmentIdentifiers('PARTNER', ['EMAIL', 'CARD']))).toBeNull();
    expect(codeOf(() => assertEnrolmentIdentifiers('PARTNER', ['CARD']))).toBeNull();
  });

  it('refuses a card from a person enrolling themself, and nothing from staff', () => {
    expect(codeOf(() => assertEnrolmentIdentifiers('SELF', ['EMAIL', 'CARD']))).toBe('CARD_NEEDS_STAFF');
    expect(codeOf(() => assertEnrolmentIdentifiers('SELF', ['EMAIL']))).toBeNull();
    expect(codeOf(() => assertEnrolmentIdentifiers('AGENT', ['EMAIL']))).toBeNull();
  });
});

describe('consent source at enrolment', () => {
  it('is PARTNER at a partner’s till and ENROLMENT otherwise', () => {
    expect(enrolmentConsentSource('PARTNER')).toBe('PARTNER');
    expect(enrolmentConsentSource('SELF')).toBe('ENROLMENT');
    expect(enrolmentConsentSource('AGENT')).toBe('ENROLMENT');
  });
});

describe('the partner’s view of a member', () => {
  it('holds the id, whether they can earn and the tier name, and nothing else of the member', () => {
    const member = { id: 'm1', status: 'ACTIVE', firstName: 'Ann', birthDate: '1990-04-01' };
    expect(partnerMemberView(member, 'Bronze')).toEqual({ memberId: 'm1', canEarn: true, tierName: 'Bronze' });
    expect(partnerMemberView({ ...member, status: 'SUSPENDED' }, null)).toEqual({ memberId: 'm1', canEarn: false, tierName: null });
  });
});
