import { describe, expect, it } from 'vitest';
import { InputError } from '@loyalty-graph/shared';
import { checkScopes, PARTNER_SCOPES, scopeName, scopeString } from './scopes';

describe('partner scopes', () => {
  it('map each enum value to its scope string and back', () => {
    expect(PARTNER_SCOPES).toEqual({
      MEMBERS_LOOKUP: 'members:lookup',
      PURCHASES_WRITE: 'purchases:write',
      PURCHASES_READ: 'purchases:read',
      OFFERS_WRITE: 'offers:write',
      SETTLEMENT_READ: 'settlement:read',
      WEBHOOKS_MANAGE: 'webhooks:manage',
      MEMBERS_ENROLL: 'members:enroll',
    });
    for (const name of Object.keys(PARTNER_SCOPES) as (keyof typeof PARTNER_SCOPES)[]) expect(scopeName(scopeString(name))).toBe(name);
    expect(scopeName('admin:everything')).toBeNull();
  });

  it('are checked: at least one, each once, stored in the enum’s order', () => {
    expect(checkScopes(['SETTLEMENT_READ', 'MEMBERS_LOOKUP'], 'scopes')).toEqual(['members:lookup', 'settlement:read']);
    expect(checkScopes(['MEMBERS_ENROLL', 'MEMBERS_LOOKUP'], 'scopes')).toEqual(['members:lookup', 'members:enroll']);
    expect(() => checkScopes([], 'scopes')).toThrow(InputError);
    expect(() => checkScopes(['OFFERS_WRITE', 'OFFERS_WRITE'], 'scopes')).toThrow(/listed twice/);
  });
});
