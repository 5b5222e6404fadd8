import { GraphQLError, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { answerSubgraphFailure, SUBGRAPH_TIMEOUT_CODE } from './subgraph-failures';

type Options = Parameters<typeof answerSubgraphFailure>[1];

const incoming = (query: string, variables: Record<string, unknown> = {}): Options =>
  ({ kind: 'incoming operation', request: { query, variables }, document: parse(query) }) as unknown as Options;
const failing = (error: unknown) => () => Promise.reject(error);
const network = (code: string) => Object.assign(new Error(code), { code });
const httpError = (status: number, body: unknown) => new GraphQLError(`${status}: x`, { extensions: { response: { status, body } } });

describe('answerSubgraphFailure', () => {
  const query = incoming('query { me { id } other: program(id: "x") { id } }');
  const mutation = incoming('mutation { recordPurchase(input: {}) { purchase { id } } }');

  it('answers a subgraph that was never reached as SUBGRAPH_UNAVAILABLE, retryable, on each root field it owns', async () => {
    const answer = await answerSubgraphFailure('ledger', mutation, failing(network('ECONNREFUSED')));
    expect(answer.errors?.map((e) => [e.path, e.extensions])).toEqual([[['recordPurchase'], { code: 'SUBGRAPH_UNAVAILABLE', service: 'ledger', retryable: true }]]);
    const both = await answerSubgraphFailure('members', query, failing(network('ECONNREFUSED')));
    expect(both.errors?.map((e) => e.path)).toEqual([['me'], ['other']]);
  });

  it('says a mutation lost on the way or timed out may have been applied: not retryable', async () => {
    for (const error of [network('ECONNRESET'), network(SUBGRAPH_TIMEOUT_CODE)]) {
      expect((await answerSubgraphFailure('ledger', mutation, failing(error))).errors?.[0]?.extensions?.['retryable']).toBe(false);
      expect((await answerSubgraphFailure('ledger', query, failing(error))).errors?.[0]?.extensions?.['retryable']).toBe(true);
    }
    expect((await answerSubgraphFailure('ledger', query, failing(network(SUBGRAPH_TIMEOUT_CODE)))).errors?.[0]?.extensions?.['code']).toBe('SUBGRAPH_TIMEOUT');
  });

  it('answers 502–504 from a proxy in front of a subgraph as SUBGRAPH_UNAVAILABLE', async () => {
    const answer = await answerSubgraphFailure('ledger', mutation, failing(httpError(503, '<html>')));
    expect(answer.errors?.[0]?.extensions).toEqual({ code: 'SUBGRAPH_UNAVAILABLE', service: 'ledger', retryable: true });
    // After a 504 the subgraph may have run the mutation.
    const gatewayTimeout = await answerSubgraphFailure('ledger', mutation, failing(httpError(504, '<html>')));
    expect(gatewayTimeout.errors?.[0]?.extensions).toEqual({ code: 'SUBGRAPH_UNAVAILABLE', service: 'ledger', retryable: false });
  });

  it('passes a 400 answer’s GraphQL errors on as the subgraph’s own (they keep code and field)', async () => {
    const errors = [{ message: 'Decimal must be …', extensions: { code: 'BAD_USER_INPUT', field: 'amount' } }];
    expect(await answerSubgraphFailure('ledger', query, failing(httpError(400, { errors })))).toEqual({ errors });
  });

  it('rethrows what is not the caller’s business: 401/403 (our own token refused), bugs, and schema loading', async () => {
    const unauthorized = httpError(401, { errors: [{ message: 'Invalid internal token', extensions: { code: 'UNAUTHENTICATED' } }] });
    await expect(answerSubgraphFailure('ledger', query, failing(unauthorized))).rejects.toBe(unauthorized);
    const bug = new TypeError('boom');
    await expect(answerSubgraphFailure('ledger', query, failing(bug))).rejects.toBe(bug);
    const loading = { kind: 'loading schema', request: {}, context: {} } as unknown as Options;
    await expect(answerSubgraphFailure('ledger', loading, failing(network('ECONNREFUSED')))).rejects.toThrow('ECONNREFUSED');
  });

  it('names each field asked of a single entity, and none for many', async () => {
    const entities = 'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Member { points { available } statement { totalCount } } } }';
    const one = await answerSubgraphFailure('ledger', incoming(entities, { representations: [{ __typename: 'Member', id: '1' }] }), failing(network('ECONNREFUSED')));
    expect(one.errors?.map((e) => e.path)).toEqual([['_entities', 0, 'points'], ['_entities', 0, 'statement']]);
    const many = await answerSubgraphFailure('ledger', incoming(entities, { representations: [{ id: '1' }, { id: '2' }] }), failing(network('ECONNREFUSED')));
    expect(many.errors?.map((e) => e.path)).toEqual([undefined]);
  });

  it('answers as usual when the subgraph does', async () => {
    expect(await answerSubgraphFailure('ledger', query, () => Promise.resolve({ data: { me: null } }))).toEqual({ data: { me: null } });
  });
});
