import { InputError } from '@loyalty-graph/shared';

/**
 * What a partner's API client may do: the GraphQL enum and the scope strings the gateway puts in
 * a PARTNER viewer (and `@access` reads). One table, both directions; the strings are the stored
 * form, so renaming an enum value never rewrites rows.
 */
export const PARTNER_SCOPES = {
  MEMBERS_LOOKUP: 'members:lookup',
  PURCHASES_WRITE: 'purchases:write',
  PURCHASES_READ: 'purchases:read',
  OFFERS_WRITE: 'offers:write',
  SETTLEMENT_READ: 'settlement:read',
  WEBHOOKS_MANAGE: 'webhooks:manage',
  MEMBERS_ENROLL: 'members:enroll',
} as const;

export type PartnerScopeName = keyof typeof PARTNER_SCOPES;
export type PartnerScopeString = (typeof PARTNER_SCOPES)[PartnerScopeName];

const NAMES = new Map<string, PartnerScopeName>(Object.entries(PARTNER_SCOPES).map(([name, scope]) => [scope, name as PartnerScopeName]));

export function scopeString(name: PartnerScopeName): PartnerScopeString {
  return PARTNER_SCOPES[name];
}

/** The enum value of a stored scope string; null for one this code does not know (dropped from answers). */
export function scopeName(scope: string): PartnerScopeName | null {
  return NAMES.get(scope) ?? null;
}

/** 1 to all scopes, each once, as scope strings in the enum's order. */
export function checkScopes(names: readonly PartnerScopeName[], field: string): PartnerScopeString[] {
  if (names.length === 0) throw new InputError('scopes must list at least one scope', field);
  const twice = names.findIndex((name, i) => names.indexOf(name) !== i);
  if (twice >= 0) throw new InputError(`${names[twice]} is listed twice`, `${field}.${twice}`);
  return (Object.keys(PARTNER_SCOPES) as PartnerScopeName[]).filter((name) => names.includes(name)).map(scopeString);
}
