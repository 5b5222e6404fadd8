import { createHash } from 'node:crypto';
import { agreementInForce, type SettlementPeriod } from './agreements';

/**
 * Settlement periods, in UTC: WEEKLY from Monday 00:00, MONTHLY from the 1st, QUARTERLY from
 * 1 January, April, July and October. A partner's periods follow each other without gaps: the
 * first starts at the boundary on or before its first agreement's start; each next one starts
 * where the previous ended and runs to the next boundary of the period kind in force at its start
 * (so a switch from MONTHLY to WEEKLY takes effect at the next period, never inside one).
 */
export interface Period {
  start: Date;
  end: Date;
}

interface Versioned {
  effectiveFrom: Date;
  settlementPeriod: SettlementPeriod;
}

/** The boundary of `kind` on or before `at`. */
export function periodFloor(kind: SettlementPeriod, at: Date): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  if (kind === 'MONTHLY') return new Date(Date.UTC(y, m, 1));
  if (kind === 'QUARTERLY') return new Date(Date.UTC(y, m - (m % 3), 1));
  const day = new Date(Date.UTC(y, m, at.getUTCDate()));
  return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * 86_400_000);
}

/** The first boundary of `kind` strictly after `at`. */
export function nextBoundary(kind: SettlementPeriod, at: Date): Date {
  const floor = periodFloor(kind, at);
  const y = floor.getUTCFullYear();
  const m = floor.getUTCMonth();
  if (kind === 'MONTHLY') return new Date(Date.UTC(y, m + 1, 1));
  if (kind === 'QUARTERLY') return new Date(Date.UTC(y, m + 3, 1));
  return new Date(floor.getTime() + 7 * 86_400_000);
}

/** The terms that set a period's kind and fixed fee: in force at its start, else the first version. */
export function termsAt<V extends Versioned>(versions: readonly V[], at: Date): V {
  const found = agreementInForce(versions, at);
  if (found) return found;
  const first = [...versions].sort((a, b) => a.effectiveFrom.getTime() - b.effectiveFrom.getTime())[0];
  if (!first) throw new Error('a partner without an agreement has no settlement periods');
  return first;
}

/** The partner's first period: from the boundary on or before its first agreement's start. */
export function firstPeriod(versions: readonly Versioned[]): Period {
  const first = termsAt(versions, new Date(-8.64e15));
  return periodStartingAt(versions, periodFloor(first.settlementPeriod, first.effectiveFrom));
}

/** The period that starts at `start` (the previous one's end). */
export function periodStartingAt(versions: readonly Versioned[], start: Date): Period {
  return { start, end: nextBoundary(termsAt(versions, start).settlementPeriod, start) };
}

const NAMESPACE = Buffer.from('6f1c0d9e4b7a4c1e8e2f5a3b9c7d1e20', 'hex');

/**
 * A period's statement id, known before it closes (a name-based UUID, version 5, of the partner
 * and the period's start): the provisional statement, a failed close and the closed statement
 * are one id, and a close run twice can only ever insert one row.
 */
export function statementId(partnerId: string, periodStart: Date): string {
  const hash = createHash('sha1').update(NAMESPACE).update(`${partnerId.toLowerCase()}/${periodStart.toISOString()}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
