import { randomUUID } from 'node:crypto';
import { DomainError } from '@loyalty-graph/shared';
import { membersEvents } from '@loyalty-graph/shared/contracts';
import { emit } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';
import { IdentifierVerificationEntity } from '../entities/identifier-verification';
import type { MemberEntity } from '../entities/member';
import { MemberIdentifierEntity } from '../entities/member-identifier';
import { assertSelfServiceType, checkCode, CODE_TTL_MS, hashCode, newCode, nextRequest, verificationFailure } from '../domain/identifier-verification';
import { MAX_IDENTIFIERS, type IdentifierInput } from '../domain/identifiers';

/**
 * Identifiers a member adds themself (domain/identifier-verification.ts has the rules and why).
 *
 * What a member learns is the same whether or not someone else in the program holds the
 * identifier: the request succeeds and shows as pending. When it is free, a code goes out
 * (IdentifierVerificationRequested); when another member holds it, no code goes out, so the
 * request can never complete, and the holder may be told (IdentifierClaimAttempted). A code
 * typed for an identifier someone took in the meantime fails like a wrong one.
 *
 * Both functions run inside the caller's transaction, with the member's row locked.
 */

/** Asks for a code for `identifier` (already normalised) on behalf of the member themself. */
export async function requestVerification(tx: EntityManager, member: MemberEntity, identifier: IdentifierInput, now: Date, field = 'identifier'): Promise<void> {
  assertSelfServiceType(identifier.type, `${field}.type`);
  const { type, value } = identifier;
  const identifiers = tx.getRepository(MemberIdentifierEntity);
  const requests = tx.getRepository(IdentifierVerificationEntity);
  const holder = await identifiers.findOneBy({ programId: member.programId, type, value });
  // Already the member's own: nothing to confirm.
  if (holder?.memberId === member.id) return;
  const pending = await requests.findBy({ memberId: member.id });
  const previous = pending.find((p) => p.type === type && p.value === value) ?? null;
  const stillOpen = pending.filter((p) => p !== previous && p.expiresAt > now).length;
  if ((await identifiers.countBy({ memberId: member.id })) + stillOpen >= MAX_IDENTIFIERS) {
    throw new DomainError('TOO_MANY_IDENTIFIERS', `A member has at most ${MAX_IDENTIFIERS} identifiers, those waiting for a code included`, field);
  }
  const counter = nextRequest(previous, now);
  const id = previous?.id ?? randomUUID();
  const code = newCode();
  const expiresAt = new Date(now.getTime() + CODE_TTL_MS);
  await requests.save({ id, memberId: member.id, programId: member.programId, type, value, codeHash: hashCode(id, code), expiresAt, attempts: 0, ...counter, requestedAt: now });
  if (holder) {
    // The code just hashed is sent to nobody: this request can never complete.
    await emit(tx, membersEvents, [{ type: 'IdentifierClaimAttempted', payload: { programId: member.programId, holderId: holder.memberId, type: type as 'EMAIL' | 'PHONE', value, attemptedAt: now.toISOString() } }], now);
  } else {
    await emit(tx, membersEvents, [{ type: 'IdentifierVerificationRequested', payload: { programId: member.programId, memberId: member.id, type: type as 'EMAIL' | 'PHONE', value, code, expiresAt: expiresAt.toISOString() } }], now);
  }
}

/**
 * Checks a code. Returns null when the identifier is now the member's, or the failure to report
 * once the transaction has committed (a wrong code must still count against the tries).
 */
export async function confirmVerification(tx: EntityManager, member: MemberEntity, identifier: IdentifierInput, code: string, now: Date): Promise<DomainError | null> {
  const requests = tx.getRepository(IdentifierVerificationEntity);
  const request = await requests.findOne({ where: { memberId: member.id, type: identifier.type, value: identifier.value }, lock: { mode: 'pessimistic_write' } });
  if (!request) return verificationFailure('NO_REQUEST');
  const outcome = checkCode(request, code, now);
  if (outcome === 'WRONG_CODE') {
    await requests.update({ id: request.id }, { attempts: request.attempts + 1 });
    return verificationFailure(outcome);
  }
  if (outcome !== 'VERIFIED') return verificationFailure(outcome);
  await requests.delete({ id: request.id });
  // Taken by someone else meanwhile (or held all along): no row, and the same answer as a wrong code.
  const inserted = (await tx.query(
    `INSERT INTO member_identifiers (member_id, program_id, type, value, added_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (program_id, type, value) DO NOTHING RETURNING id`,
    [member.id, member.programId, identifier.type, identifier.value, now],
  )) as { id: string }[];
  return inserted.length ? null : verificationFailure('WRONG_CODE');
}
