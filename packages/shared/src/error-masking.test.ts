import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { maskInternalError } from './error-masking';

describe('maskInternalError', () => {
  it('keeps a public code with its public hints and drops everything else', () => {
    const formatted = {
      message: 'The ledger service is unavailable',
      path: ['me', 'points'],
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', service: 'ledger', retryable: false, serviceName: 'ledger', stacktrace: ['at x'], response: { body: 'secret' } },
    };
    expect(maskInternalError(formatted, null)).toEqual({
      message: 'The ledger service is unavailable',
      path: ['me', 'points'],
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', service: 'ledger', retryable: false },
    });
  });

  it('keeps the field of BAD_USER_INPUT', () => {
    expect(maskInternalError({ message: 'bad', extensions: { code: 'BAD_USER_INPUT', field: 'amount' } }, null).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'amount' });
  });

  it('masks any other code, and errors without one', () => {
    for (const extensions of [{ code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'ledger' }, { code: 'ECONNREFUSED' }, undefined]) {
      expect(maskInternalError({ message: 'relation "x" does not exist', ...(extensions ? { extensions } : {}) }, null)).toEqual({
        message: 'Internal server error',
        locations: undefined,
        path: undefined,
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
    }
  });

  it('turns a value PostgreSQL refuses for its range into BAD_USER_INPUT, and nothing else from the database', () => {
    const queryFailed = (code: string) => Object.assign(new Error('numeric field overflow'), { driverError: { code } });
    const formatted = { message: 'numeric field overflow', path: ['createProgram'] };
    expect(maskInternalError(formatted, new GraphQLError('numeric field overflow', { originalError: queryFailed('22003') }))).toEqual({
      message: 'A number is larger than this field can store',
      locations: undefined,
      path: ['createProgram'],
      extensions: { code: 'BAD_USER_INPUT' },
    });
    for (const code of ['42P01', '23505', '40001']) {
      expect(maskInternalError(formatted, new GraphQLError('x', { originalError: queryFailed(code) })).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    }
  });
});
