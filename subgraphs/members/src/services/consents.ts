import { InputError, type Viewer } from '@loyalty-graph/shared';
import { membersEvents } from '@loyalty-graph/shared/contracts';
import { emit } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';
import { ConsentEntity, type ConsentChannel, type ConsentPurpose, type ConsentSource } from '../entities/consent';
import { ConsentChangeEntity } from '../entities/consent-change';

/** Consent decisions, given at enrolment or later; written in the caller's transaction. */
export interface ConsentInput {
  channel: ConsentChannel;
  purpose: ConsentPurpose;
  granted: boolean;
}

/**
 * The recorded source must match who is acting, or the audit trail lies: members decide in the
 * member portal, staff on the hotline or by import, integrations as a partner or by import.
 * ENROLMENT is recorded by enrolment itself.
 */
const SOURCES_BY_VIEWER: Record<Viewer['kind'], readonly ConsentSource[]> = {
  MEMBER: ['MEMBER_PORTAL'],
  STAFF: ['HOTLINE', 'IMPORT'],
  SERVICE: ['PARTNER', 'IMPORT'],
  PARTNER: ['PARTNER'],
  ANONYMOUS: [],
};

export function assertDistinctConsents(consents: ConsentInput[]): void {
  const seen = new Set<string>();
  for (const [i, consent] of consents.entries()) {
    const key = `${consent.channel}/${consent.purpose}`;
    if (seen.has(key)) throw new InputError(`${key} is given twice`, `consents.${i}`);
    seen.add(key);
  }
}

export function assertConsentSource(viewer: Viewer, source: ConsentSource): void {
  const allowed = SOURCES_BY_VIEWER[viewer.kind];
  if (!allowed.includes(source)) throw new InputError(`source must be ${allowed.join(' or ')} for this caller`, 'source');
}

/**
 * Records consent decisions. Only decisions that change something are written, so the history
 * is a record of changes, not of form submissions. The member row is locked by the caller, so
 * the current decisions read here cannot change underneath. A change is announced in the same
 * transaction (ConsentsChanged, with the member's whole current set): other subgraphs gate
 * partner offers and partner lookups on it, so it must never be lost nor announced without
 * having happened.
 */
export async function writeConsents(tx: EntityManager, viewer: Viewer, member: { id: string; programId: string }, consents: ConsentInput[], source: ConsentSource, now: Date): Promise<void> {
  const memberId = member.id;
  assertDistinctConsents(consents);
  const current = new Map((await tx.getRepository(ConsentEntity).findBy({ memberId })).map((c) => [`${c.channel}/${c.purpose}`, c.granted]));
  const changed = consents.filter((c) => current.get(`${c.channel}/${c.purpose}`) !== c.granted);
  if (changed.length === 0) return;
  await tx.getRepository(ConsentEntity).upsert(
    changed.map((c) => ({ memberId, channel: c.channel, purpose: c.purpose, granted: c.granted, source, updatedAt: now })),
    ['memberId', 'channel', 'purpose'],
  );
  await tx.getRepository(ConsentChangeEntity).insert(
    changed.map((c) => ({ memberId, channel: c.channel, purpose: c.purpose, granted: c.granted, source, changedBy: viewer.subject, changedAt: now })),
  );
  for (const c of changed) current.set(`${c.channel}/${c.purpose}`, c.granted);
  const whole = [...current.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, granted]) => {
      const [channel, purpose] = key.split('/') as [ConsentChannel, ConsentPurpose];
      return { channel, purpose, granted };
    });
  await emit(tx, membersEvents, [{ type: 'ConsentsChanged', payload: { programId: member.programId, memberId, consents: whole, changedAt: now.toISOString() } }], now);
}
