import { DomainError, InputError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { errorOf } from '@loyalty-graph/testing/errors';
import type { ProgramStatus } from '../entities/program';
import { assertProgramTransition, pointValue, programName } from './program';

describe('assertProgramTransition', () => {
  it.each([
    ['DRAFT', 'ACTIVE'],
    ['ACTIVE', 'SUSPENDED'],
    ['SUSPENDED', 'ACTIVE'],
    ['DRAFT', 'CLOSED'],
    ['ACTIVE', 'CLOSED'],
    ['ACTIVE', 'ACTIVE'],
  ] as const)('allows %s -> %s', (from, to) => {
    expect(() => assertProgramTransition(from, to)).not.toThrow();
  });

  it.each([
    ['DRAFT', 'SUSPENDED'],
    ['ACTIVE', 'DRAFT'],
    ['CLOSED', 'ACTIVE'],
    ['CLOSED', 'DRAFT'],
  ] as [ProgramStatus, ProgramStatus][])('refuses %s -> %s', (from, to) => {
    const error = errorOf(() => assertProgramTransition(from, to));
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'INVALID_STATUS_TRANSITION', field: 'status' });
  });
});

describe('pointValue', () => {
  it('accepts a non-negative amount in an ISO 4217 currency', () => {
    expect(pointValue('0.01', 'EUR')).toEqual({ amount: '0.01', currency: 'EUR' });
    expect(pointValue('0', 'PLN')).toEqual({ amount: '0', currency: 'PLN' });
  });

  it.each(['eur', 'EURO', 'E1R'])('rejects the currency %j', (currency) => {
    const error = errorOf(() => pointValue('1', currency));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('pointValue.currency');
  });

  it('rejects a negative value', () => {
    const error = errorOf(() => pointValue('-0.01', 'EUR', 'input.pointValue'));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('input.pointValue.amount');
  });

  it('accepts a rate finer than the currency (a point worth half a cent) up to a million', () => {
    expect(pointValue('0.005', 'EUR').amount).toBe('0.005');
    expect(pointValue('1000000', 'JPY').amount).toBe('1000000');
  });

  it('refuses a value no point has, before the database would overflow on it', () => {
    const error = errorOf(() => pointValue('1000000.01', 'EUR'));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toContain('at most 1000000');
    expect(() => pointValue('123456789012345678', 'EUR')).toThrow(InputError);
  });
});

describe('programName', () => {
  it('trims the name', () => {
    expect(programName('  Coffee Club ')).toBe('Coffee Club');
  });

  it('rejects an empty or over-long name', () => {
    expect((errorOf(() => programName('   ')) as InputError).field).toBe('name');
    expect(() => programName('x'.repeat(100))).not.toThrow();
    expect(errorOf(() => programName('x'.repeat(101)))).toBeInstanceOf(InputError);
  });
});
