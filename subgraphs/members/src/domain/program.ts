import { DomainError, InputError } from '@loyalty-graph/shared';
import type { ProgramStatus } from '../entities/program';
import { requiredText } from './text';
import { LIMITS } from './limits';

const PROGRAM_TRANSITIONS: Record<ProgramStatus, readonly ProgramStatus[]> = {
  DRAFT: ['ACTIVE', 'CLOSED'],
  ACTIVE: ['SUSPENDED', 'CLOSED'],
  SUSPENDED: ['ACTIVE', 'CLOSED'],
  CLOSED: [],
};

export function assertProgramTransition(from: ProgramStatus, to: ProgramStatus): void {
  if (from === to || PROGRAM_TRANSITIONS[from].includes(to)) return;
  throw new DomainError('INVALID_STATUS_TRANSITION', `A ${from} program cannot become ${to}`, 'status');
}

export function programName(value: string, field = 'name'): string {
  return requiredText(value, field, 100);
}

export function pointsCurrencyName(value: string, field = 'pointsCurrencyName'): string {
  return requiredText(value, field, 30);
}

/** A point's money value: a non-negative amount in an ISO 4217 currency. */
export function pointValue(amount: string, currency: string, field = 'pointValue'): { amount: string; currency: string } {
  if (!/^[A-Z]{3}$/.test(currency)) throw new InputError('currency must be an ISO 4217 code such as EUR', `${field}.currency`);
  if (amount.startsWith('-')) throw new InputError('a point cannot have a negative value', `${field}.amount`);
  // A rate, not a payment: finer than the currency's cents is normal (a point worth 0.005 EUR).
  if (Number(amount) > LIMITS.pointValue) throw new InputError(`a point is worth at most ${LIMITS.pointValue} ${currency}`, `${field}.amount`);
  return { amount, currency };
}

/** Members can enrol only in programs that are running. */
export function acceptsEnrolment(status: ProgramStatus): boolean {
  return status === 'ACTIVE';
}
