import { hasScopes, isStaffOf, type Viewer } from '@loyalty-graph/shared';

/**
 * Ownership rules, on top of the @access directive (the coarse gate per field): staff act only
 * within their program (platform operators, ADMINs of no program, in every program); internal
 * services are trusted. Partners themselves (PARTNER viewers) read nothing here yet.
 */

/** Partners and their agreements: the program's admins and agents, and services. */
export function canReadPartners(viewer: Viewer, programId: string): boolean {
  return viewer.kind === 'SERVICE' || isStaffOf(viewer, programId, ['ADMIN', 'AGENT']);
}

/** Creating and changing partners, agreements and API clients: the program's admins and operators. */
export function canManagePartners(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}

/** API clients (names, scopes, key display parts): admins only; agents have no use for them. */
export function canReadApiClients(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}

/**
 * Settlement statements: the program's admins and agents (and operators), and the partner itself
 * through a key with `settlement:read` — its own statements only, never another partner's.
 */
export function canReadSettlement(viewer: Viewer, statement: { programId: string; partnerId: string }): boolean {
  if (viewer.kind === 'PARTNER') return viewer.programId === statement.programId && viewer.partnerId === statement.partnerId && hasScopes(viewer, ['settlement:read']);
  return isStaffOf(viewer, statement.programId, ['ADMIN', 'AGENT']);
}

/** Reconciliation problems and payments: the program's admins and operators. */
export function canManageSettlement(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}

/**
 * Webhook endpoints, their messages and attempts: the partner itself through an API key with
 * `webhooks:manage` (its own endpoints only), and the program's admins and operators.
 */
export function canManageWebhooks(viewer: Viewer, partner: { id: string; programId: string }): boolean {
  if (viewer.kind === 'PARTNER') return viewer.partnerId === partner.id && viewer.programId === partner.programId && hasScopes(viewer, ['webhooks:manage']);
  return isStaffOf(viewer, partner.programId, ['ADMIN']);
}

/**
 * Writing an offer: the program's admins for any of its partners or the program's own offers; a
 * partner's key with offers:write for that partner only (never another's, never the program's).
 */
export function canWriteOffer(viewer: Viewer, offer: { programId: string; partnerId: string | null }): boolean {
  if (viewer.kind === 'PARTNER') return offer.partnerId !== null && viewer.partnerId === offer.partnerId && viewer.programId === offer.programId && hasScopes(viewer, ['offers:write']);
  return isStaffOf(viewer, offer.programId, ['ADMIN']);
}

/** Reading offers as written (drafts included): the program's admins and agents, and the partner itself with offers:write. */
export function canReadOffers(viewer: Viewer, offer: { programId: string; partnerId: string | null }): boolean {
  if (viewer.kind === 'PARTNER') return canWriteOffer(viewer, offer);
  return isStaffOf(viewer, offer.programId, ['ADMIN', 'AGENT']);
}

/** A member's offers: the member themself, and the program's agents and admins (helping them on the phone). */
export function canReadMemberOffers(viewer: Viewer, member: { id: string; programId: string }): boolean {
  if (viewer.kind === 'MEMBER') return viewer.programId === member.programId && viewer.memberId === member.id;
  return isStaffOf(viewer, member.programId, ['ADMIN', 'AGENT']);
}
