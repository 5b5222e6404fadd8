import { createHash } from 'node:crypto';
import { InputError, type Viewer } from '@loyalty-graph/shared';
import { LIMITS } from './limits';

/** How a till recognises a member; resolved by the members subgraph with its own normalisation. */
export type MemberIdentifierType = 'CARD' | 'EMAIL' | 'PHONE';

export interface MemberIdentifier {
  type: MemberIdentifierType;
  value: string;
}

/** Who a purchase is for: a member id, or an identifier as typed at the till (exactly one). */
export interface MemberChoice {
  memberId?: string | null;
  member?: MemberIdentifier | null;
}

/**
 * A partner's purchases all come from one source, its own: its transaction ids are unique within
 * it, so two partners may use the same id and neither can collide with (or find out about) the
 * other's purchase through the (program, source, externalId) unique key.
 */
export function partnerSource(partnerId: string): string {
  return `partner:${partnerId}`;
}

/** Sources of this shape belong to partners' keys: nobody else may write into their namespace. */
export function isPartnerSource(source: string): boolean {
  return source.startsWith('partner:');
}

/**
 * The idempotency key of a purchase identified by its transaction id: the same (source,
 * transaction id) is the same key, so a retry with the same content replays the original purchase
 * however it was sent (one at a time or in bulk, under any idempotencyKey), and different content
 * is refused. A hash keeps it within the key's 100 characters whatever the id's length.
 */
export function transactionKey(source: string, transactionId: string): string {
  return `tx:${createHash('sha256').update(source).update('\0').update(transactionId).digest('hex')}`;
}

/** Exactly one of memberId and member; the identifier's bound checked (its format is members' to judge). */
export function checkMemberChoice(choice: MemberChoice, prefix = ''): { memberId: string } | { identifier: MemberIdentifier } {
  const hasId = choice.memberId != null;
  const hasIdentifier = choice.member != null;
  if (hasId === hasIdentifier) throw new InputError('Give exactly one of memberId and member', `${prefix}${hasId ? 'member' : 'memberId'}`);
  if (hasId) return { memberId: choice.memberId! };
  const identifier = choice.member!;
  if (identifier.value.length === 0 || identifier.value.length > LIMITS.identifierLength) {
    throw new InputError(`member.value must be 1 to ${LIMITS.identifierLength} characters`, `${prefix}member.value`);
  }
  return { identifier };
}

/** The source of a bulk call: the partner's own, or the one staff named. */
export function bulkSource(viewer: Viewer, given: string | null | undefined): string {
  if (viewer.kind === 'PARTNER') {
    if (!viewer.partnerId) throw new InputError('This key names no partner', 'source');
    return partnerSource(viewer.partnerId);
  }
  if (!given || given.length > LIMITS.sourceLength) throw new InputError(`source must be 1 to ${LIMITS.sourceLength} characters`, 'source');
  if (isPartnerSource(given)) throw new InputError('Sources starting with partner: are partners’ own', 'source');
  return given;
}

/** 1 to bulkPurchaseLines lines. */
export function checkLineCount(count: number): void {
  if (count < 1 || count > LIMITS.bulkPurchaseLines) throw new InputError(`Give 1 to ${LIMITS.bulkPurchaseLines} lines`, 'lines');
}

/**
 * The lines whose transaction id an earlier line of the same call already used: index → the first
 * line's index. The first one is recorded; the others are refused rather than silently merged
 * (a partner sending one id twice in a batch has a bug worth seeing).
 */
export function duplicateTransactions(transactionIds: string[]): Map<number, number> {
  const first = new Map<string, number>();
  const duplicates = new Map<number, number>();
  transactionIds.forEach((id, i) => {
    const seen = first.get(id);
    if (seen === undefined) first.set(id, i);
    else duplicates.set(i, seen);
  });
  return duplicates;
}
