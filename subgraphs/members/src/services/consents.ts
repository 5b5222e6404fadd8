import { InputError, type Viewer } from '@loyalty-graph/shared';
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
 * the current decisions read here cannot change underneath.
 */
export async function writeConsents(tx: EntityManager, viewer: Viewer, memberId: string, consents: ConsentInput[], source: ConsentSource, now: Date): Promise<void> {
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
}
