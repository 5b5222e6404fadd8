import { hasScopes, isOperator, isStaffOf, type Viewer } from '@loyalty-graph/shared';

/**
 * Who may see or do what in the ledger, on top of the @access directive (the coarse gate, per
 * field): every ownership rule is here, named, and unit tested in policy.test.ts.
 */

/** A member sees and spends only their own points; staff act only within their program. */
export function canReadMemberPoints(viewer: Viewer, memberId: string, programId: string): boolean {
  if (viewer.kind === 'SERVICE') return true;
  if (viewer.kind === 'MEMBER') return viewer.memberId === memberId && viewer.programId === programId;
  return isStaffOf(viewer, programId, ['ADMIN', 'AGENT']);
}

/** Recording purchases and moving points: staff of the program or an internal service. */
export function canOperate(viewer: Viewer, programId: string): boolean {
  return viewer.kind === 'SERVICE' || isStaffOf(viewer, programId, ['ADMIN', 'AGENT']);
}

/**
 * Recording a purchase: whoever may operate, and a partner's API client in its own program with
 * `purchases:write` (the @access scope, checked again here so the rule stands on its own).
 */
export function canRecordPurchase(viewer: Viewer, programId: string): boolean {
  if (viewer.kind === 'PARTNER') return viewer.programId === programId && hasScopes(viewer, ['purchases:write']);
  return canOperate(viewer, programId);
}

/**
 * Whether the viewer may learn that a member of this program exists. A partner is bound to its
 * program: a member of another program is "no such member" to it, exactly like an unknown id, so
 * a partner cannot probe other programs' member ids.
 */
export function canSeeMembersOf(viewer: Viewer, programId: string): boolean {
  return viewer.kind !== 'PARTNER' || viewer.programId === programId;
}

/**
 * Who funds a purchase's points. A partner records only purchases it funds itself (its own
 * PARTNER_FUNDING account, settled with it later): never another partner's, never the program's.
 * Staff and services name any partner, or none (the program funds).
 */
export function canFundPurchase(viewer: Viewer, partnerId: string | null): boolean {
  return viewer.kind !== 'PARTNER' || (partnerId !== null && partnerId === viewer.partnerId);
}

/** A member may send or donate their own points; the program's agents and admins may do it for any member. */
export function canSpendFor(viewer: Viewer, memberId: string, programId: string): boolean {
  if (viewer.kind === 'MEMBER') return viewer.memberId === memberId && viewer.programId === programId;
  return isStaffOf(viewer, programId, ['AGENT', 'ADMIN']);
}

/**
 * Donating: whoever may spend the member's points (canSpendFor), and internal services: the
 * catalog's CHARITY rewards are donations it makes for the member who ordered them, after its own
 * check that the order is theirs. The program's monthly donation limit applies to all of them.
 * Transfers stay canSpendFor: no service sends one member's points to another.
 */
export function canDonateFor(viewer: Viewer, memberId: string, programId: string): boolean {
  return viewer.kind === 'SERVICE' || canSpendFor(viewer, memberId, programId);
}

/** Reinstating expired points is a person's decision: the program's agents and admins, never a service. */
export function canReinstateExpiry(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN', 'AGENT']);
}

/**
 * Recording purchases older than the program's purchaseMaxAgeDays (importing history): the
 * program's administrators, not tills, partner feeds or agents.
 */
export function canImportPurchaseHistory(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}

/** Settings, earning rules and charities: the program's administrators. */
export function canConfigure(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}

export function canReadProgramLedger(viewer: Viewer, programId: string): boolean {
  return viewer.kind === 'SERVICE' || isStaffOf(viewer, programId, ['ADMIN', 'AGENT', 'ANALYST']);
}

/**
 * Backtesting draft earning rules against the program's history: its administrators (who publish
 * rules) and analysts (who study them), and platform operators as for the points totals. Not
 * agents, and not internal services: it reads every purchase of up to a year.
 */
export function canBacktest(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN', 'ANALYST']);
}

/** A program's charities: whoever reads its ledger, and its own members (they donate to them). */
export function canReadCharities(viewer: Viewer, programId: string): boolean {
  return canReadProgramLedger(viewer, programId) || (viewer.kind === 'MEMBER' && viewer.programId === programId);
}

/** The ledger's jobs run for every program at once: they are the platform operators' business. */
export function canReadLedgerJobs(viewer: Viewer): boolean {
  return isOperator(viewer);
}

/** An entry about a member is read like their points; a program's own entry (no member) by its staff. */
export function canReadEntry(viewer: Viewer, entry: { memberId: string | null; programId: string }): boolean {
  if (entry.memberId) return canReadMemberPoints(viewer, entry.memberId, entry.programId);
  return viewer.kind === 'STAFF' && viewer.programId === entry.programId;
}

/**
 * Staff and services see every line of an entry; a member sees only their own side, a partner
 * (reading back the accrual of a purchase it recorded) only its own funding line: the member's
 * accounts and the program's books are not its business (`canSeeLineAccount`).
 */
export function seesEveryLine(viewer: Viewer): boolean {
  return viewer.kind !== 'MEMBER' && viewer.kind !== 'PARTNER';
}

/** A line on another member's account (a transfer's other side) stays private to that member. */
export function canSeeLineAccount(viewer: Viewer, account: { kind: string; ownerId: string | null } | null): boolean {
  if (viewer.kind === 'PARTNER') return account?.kind === 'PARTNER_FUNDING' && account.ownerId === viewer.partnerId;
  return seesEveryLine(viewer) || !account?.kind.startsWith('MEMBER_') || account.ownerId === viewer.memberId;
}

/** Who acted is for staff; a member sees it only for what they did themselves. */
export function canSeeWhoActed(viewer: Viewer, entry: { createdBy: string | null }): boolean {
  return viewer.kind !== 'MEMBER' || entry.createdBy === viewer.subject;
}

/**
 * An account resolved by reference (another subgraph returned it): services and platform operators
 * see any; the program's staff its accounts; a member only their own accounts and the program's
 * (a charity's pool they donate to). Anonymous callers and other programs see none: being bound to
 * no program is not a licence to read every program's.
 */
export function canReadAccount(viewer: Viewer, account: { programId: string; kind: string; ownerId: string | null }): boolean {
  if (viewer.kind === 'SERVICE' || isOperator(viewer)) return true;
  if (viewer.programId !== account.programId) return false;
  if (viewer.kind === 'STAFF') return true;
  if (viewer.kind === 'MEMBER') return !account.kind.startsWith('MEMBER_') || (viewer.memberId !== null && account.ownerId === viewer.memberId);
  // A partner sees its own funding account, nothing else of the program's books.
  if (viewer.kind === 'PARTNER') return account.kind === 'PARTNER_FUNDING' && account.ownerId === viewer.partnerId;
  return false;
}

/** A purchase or a hold resolved by reference is read like its member's points. */
export function canReadMemberRecord(viewer: Viewer, record: { memberId: string; programId: string }): boolean {
  return canReadMemberPoints(viewer, record.memberId, record.programId);
}

/**
 * A purchase resolved by reference: read like its member's points, and by the partner it was
 * recorded for (funded by), through a key with `purchases:read` or `purchases:write` (what it
 * wrote, it may read back). Never another partner's purchase, nor one of another program.
 */
export function canReadPurchase(viewer: Viewer, purchase: { memberId: string; programId: string; partnerId: string | null }): boolean {
  if (viewer.kind === 'PARTNER') {
    return viewer.programId === purchase.programId && purchase.partnerId !== null && purchase.partnerId === viewer.partnerId && (hasScopes(viewer, ['purchases:read']) || hasScopes(viewer, ['purchases:write']));
  }
  return canReadMemberRecord(viewer, purchase);
}

/**
 * A partner's funding (its limits, what it issued): the program's admins and agents, operators,
 * services, and the partner itself: its own figures, which its settlement statements also show.
 */
export function canReadPartnerFunding(viewer: Viewer, programId: string, partnerId: string): boolean {
  if (viewer.kind === 'PARTNER') return viewer.partnerId === partnerId && viewer.programId === programId;
  return viewer.kind === 'SERVICE' || isStaffOf(viewer, programId, ['ADMIN', 'AGENT']);
}
