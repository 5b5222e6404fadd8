import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, createDevTokenIssuer, startGateway, type RunningGateway } from '@loyalty-graph/gateway';
import { createLogger } from '@loyalty-graph/shared';
import { composeSupergraph, SUBGRAPHS } from '@loyalty-graph/supergraph';
import { bearer, errorCodes, sendOperation, startTestSubgraph, type Caller, type RunningSubgraph } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * "A caller's mistake is never INTERNAL_SERVER_ERROR", class by class, through the gateway: what a
 * subgraph refuses reaches the caller with its code and field; request-level failures get their
 * GraphQL-over-HTTP status; control characters are refused at the boundary; an oversized body is a
 * 413 the client can read; a subgraph that is down or slow is named in a partial answer.
 */

const RECORD_PURCHASE = `mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) { purchase { id } userErrors { code field } } }`;
const ENROL = `mutation($p: ID!, $e: String!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: $e }] }) { member { id } } }`;

async function enrol(agent: Caller, programId: string, email: string): Promise<string> {
  const { enrollMember } = await agent.data<{ enrollMember: { member: { id: string } } }>(ENROL, { p: programId, e: email });
  return enrollMember.member.id;
}

function purchase(memberId: string, overrides: { basket?: Record<string, unknown>; line?: Record<string, unknown>; [key: string]: unknown } = {}) {
  const { basket, line, ...rest } = overrides;
  return {
    idempotencyKey: `key-${randomBytes(6).toString('hex')}`,
    memberId,
    source: 'till',
    externalId: randomBytes(6).toString('hex'),
    basket: { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 'sku-1', category: 'fuel', quantity: 1, amount: '10.00', ...line }], ...basket },
    ...rest,
  };
}

/** A POST the way any HTTP client sends it, returning status, headers and the parsed body. */
async function post(url: string, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const response = await fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

describe('errors a caller can act on', () => {
  let graph: TestSupergraph;
  let programId: string;
  let agent: Caller;
  let memberId: string;

  beforeAll(async () => {
    graph = await startSupergraph();
    ({ programId, agent } = await createTestProgram(graph));
    memberId = await enrol(agent, programId, 'errors@example.com');
  });
  afterAll(() => graph?.stop());

  describe('a subgraph’s validation errors reach the caller with code and field', () => {
    it('refuses a malformed Decimal in a variable as BAD_USER_INPUT on the amount, not INTERNAL_SERVER_ERROR', async () => {
      const response = await agent.send(RECORD_PURCHASE, { i: purchase(memberId, { line: { amount: '12,50' } }) });
      expect(response.status).toBe(200);
      expect(response.data).toBeNull();
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.extensions?.['field']).toBe('basket.lines.0.amount');
      expect(response.errors![0]!.message).toMatch(/Decimal must be a string like "12.50"/);
    });

    it('refuses a malformed DateTime in a variable as BAD_USER_INPUT on occurredAt', async () => {
      const response = await agent.send(RECORD_PURCHASE, { i: purchase(memberId, { occurredAt: 'yesterday' }) });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.extensions?.['field']).toBe('occurredAt');
      expect(response.errors![0]!.message).toMatch(/ISO-8601/);
    });

    it('refuses a malformed DateTime literal with the subgraph’s message and the field', async () => {
      const response = await agent.send(
        `mutation { recordPurchase(input: { idempotencyKey: "literal-key-1", memberId: "${memberId}", source: "till", externalId: "x1",
          basket: { currency: "EUR", channel: STORE, lines: [] }, occurredAt: "2026-02-30T10:00:00Z" }) { purchase { id } } }`,
      );
      expect(response.status).toBe(400);
      expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(response.errors![0]!.extensions?.['field']).toBe('occurredAt');
      expect(response.errors![0]!.message).toMatch(/not a valid DateTime/);
    });

    it('refuses a malformed Decimal literal at the gateway, before planning, with the subgraph’s message', async () => {
      const response = await agent.send(`query($m: ID!) { quotePurchase(input: { memberId: $m, basket: { currency: "EUR", channel: STORE, lines: [{ lineId: "1", sku: "s", category: "c", quantity: 1, amount: "1e5" }] } }) { __typename } }`, { m: memberId });
      expect(response.status).toBe(400);
      expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(response.errors![0]!.extensions?.['field']).toBe('basket.lines.0.amount');
      expect(response.errors![0]!.message).toMatch(/Decimal must be a string like "12.50"/);
    });

    it('refuses 26 nested brackets at a Decimal at once (the query planner takes 2^depth steps over them: 10 s of CPU before)', async () => {
      const nested = `${'['.repeat(26)}"1"${']'.repeat(26)}`;
      const started = Date.now();
      const response = await graph.anonymous.send(`mutation { publishEarningRules(input: { programId: "${programId}", currency: "EUR", basePoints: 1, perAmount: "1", rounding: FLOOR, discountPercent: ${nested} }) { __typename } }`);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(response.status).toBe(400);
      expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    });

    it('names a variable of the wrong type where it is used', async () => {
      const response = await agent.send(`query($p: ID!, $n: Int) { members(programId: $p, first: $n) { nodes { id } } }`, { p: programId, n: 'ten' });
      expect(response.status).toBe(400);
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.extensions?.['field']).toBe('first');
    });

    it('names a required input field left out', async () => {
      const { memberId: _m, ...withoutMember } = purchase(memberId);
      void _m;
      const response = await agent.send(RECORD_PURCHASE, { i: withoutMember });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.extensions?.['field']).toBe('memberId');
    });

    // The domain's bound answers first; PostgreSQL's own range errors are the backstop should a
    // bound be missing (mapped to BAD_USER_INPUT too by SQLSTATE: error-masking.test.ts).
    it('answers BAD_USER_INPUT for a Decimal beyond what its field holds (a program point value)', async () => {
      const operator = await graph.asOperator();
      // The Decimal scalar takes 18 integer digits; a program's point value is stored as numeric(18,8).
      const response = await operator.send(
        `mutation { createProgram(input: { name: "Huge", type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "999999999999999999.99", currency: "EUR" }, status: ACTIVE }) { program { id } } }`,
      );
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.message).toMatch(/at most 1000000 EUR/);
    });

  });

  describe('request-level failures have their GraphQL-over-HTTP status and code', () => {
    it.each([
      ['several operations and no operationName', { query: 'query A { __typename } query B { __typename }' }, 400, 'OPERATION_RESOLUTION_FAILURE'],
      ['an operationName the document does not hold', { query: 'query A { __typename }', operationName: 'C' }, 400, 'OPERATION_RESOLUTION_FAILURE'],
      ['no query', { variables: {} }, 400, 'BAD_REQUEST'],
      ['variables that are not an object', { query: '{ __typename }', variables: 5 }, 400, 'BAD_REQUEST'],
      ['a batch (batching is off)', [{ query: '{ __typename }' }], 400, 'BAD_REQUEST'],
      ['a subscription (the graph has none)', { query: 'subscription { x }' }, 400, 'GRAPHQL_VALIDATION_FAILED'],
      ['a query that is not a string', { query: 5 }, 400, 'BAD_REQUEST'],
      ['an operationName that is not a string', { query: '{ __typename }', operationName: 5 }, 400, 'BAD_REQUEST'],
      ['a JSON null', null, 400, 'BAD_REQUEST'],
      ['a syntax error', { query: '{ __typename ' }, 400, 'GRAPHQL_PARSE_FAILED'],
      ['an unknown field', { query: '{ nothingHere }' }, 400, 'GRAPHQL_VALIDATION_FAILED'],
    ])('%s', async (_what, body, status, code) => {
      const response = await post(graph.gatewayUrl, JSON.stringify(body));
      expect(response.status).toBe(status);
      expect(response.body.errors?.map((e) => e.extensions?.['code'])).toEqual([code]);
    });

    it('runs the named operation of several', async () => {
      const response = await post(graph.gatewayUrl, JSON.stringify({ query: 'query A { a: __typename } query B { b: __typename }', operationName: 'B' }));
      expect(response.status).toBe(200);
      expect(response.body.errors).toBeUndefined();
      expect((response.body as { data?: unknown }).data).toEqual({ b: 'Query' });
    });

    it('refuses a body that is not JSON with 400 BAD_REQUEST', async () => {
      const response = await post(graph.gatewayUrl, '{"query": ');
      expect(response.status).toBe(400);
      expect(response.body.errors?.[0]?.extensions?.['code']).toBe('BAD_REQUEST');
    });

    it('refuses a form-encoded or plain-text POST (CSRF) with 400 BAD_REQUEST', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
        const response = await post(graph.gatewayUrl, JSON.stringify({ query: '{ __typename }' }), { 'content-type': type });
        expect(response.status).toBe(400);
        expect(response.body.errors?.[0]?.extensions?.['code']).toBe('BAD_REQUEST');
      }
    });

    it('refuses an empty body, and GET variables that are not JSON, with 400 BAD_REQUEST', async () => {
      const empty = await post(graph.gatewayUrl, '');
      expect([empty.status, empty.body.errors?.[0]?.extensions?.['code']]).toEqual([400, 'BAD_REQUEST']);
      const url = `${graph.gatewayUrl}?query=${encodeURIComponent('{ __typename }')}&variables=%7Bbad`;
      const response = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
      expect(response.status).toBe(400);
    });

    it('answers 406 to a client that accepts neither JSON media type', async () => {
      const response = await post(graph.gatewayUrl, JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'application/json', accept: 'application/xml' });
      expect(response.status).toBe(406);
    });

    it('refuses a mutation over GET with 405 and Allow: POST', async () => {
      const url = `${graph.gatewayUrl}?query=${encodeURIComponent('mutation { __typename }')}`;
      const response = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_REQUEST');
    });

    it('refuses a method other than GET or POST with 405', async () => {
      const response = await fetch(graph.gatewayUrl, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(response.status).toBe(405);
    });
  });

  describe('control characters', () => {
    it('refuses a NUL byte in a variable with 400 BAD_USER_INPUT naming the field, and records nothing', async () => {
      const operator = await graph.asOperator();
      const response = await operator.send(
        `mutation($p: ID!, $n: String!) { enrollMember(input: { programId: $p, profile: { firstName: $n }, identifiers: [{ type: EMAIL, value: "nul@example.com" }] }) { member { id } } }`,
        { p: programId, n: 'Ann\u0000a' },
      );
      expect(response.status).toBe(400);
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.extensions?.['field']).toBe('profile.firstName');
      expect(response.errors![0]!.message).toMatch(/U\+0000/);
      const found = await agent.data<{ memberByIdentifier: unknown }>(
        `query($p: ID!) { memberByIdentifier(programId: $p, type: EMAIL, value: "nul@example.com") { id } }`,
        { p: programId },
      );
      expect(found.memberByIdentifier).toBeNull();
    });

    it('refuses an escaped control character in a string literal, inside lists too', async () => {
      const response = await agent.send(
        `mutation { enrollMember(input: { programId: "${programId}", identifiers: [{ type: EMAIL, value: "a@b.example" }, { type: CARD, value: "NFC\\u001B1" }] }) { member { id } } }`,
      );
      expect(response.status).toBe(400);
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.extensions?.['field']).toBe('identifiers.1.value');
    });

    it('refuses one in a ledger argument the same way (every subgraph’s fields, no list of them)', async () => {
      const response = await agent.send(RECORD_PURCHASE, { i: purchase(memberId, { line: { sku: 'sku\u00071' } }) });
      expect(response.status).toBe(400);
      expect(response.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'basket.lines.0.sku' });
    });

    it('refuses half a surrogate pair (not text; PostgreSQL refused it in a purchase’s lines: an internal error)', async () => {
      const response = await agent.send(RECORD_PURCHASE, { i: purchase(memberId, { line: { category: 'fuel\udfff' } }) });
      expect(response.status).toBe(400);
      expect(response.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'basket.lines.0.category' });
      expect(response.errors![0]!.message).toMatch(/U\+DFFF/);
      // A whole pair (an emoji) is text like any other.
      const emoji = await agent.send(RECORD_PURCHASE, { i: purchase(memberId, { line: { category: 'fuel \ud83d\ude00' } }) });
      expect(errorCodes(emoji)).toEqual([]);
    });

    it('accepts tab and line breaks in free text', async () => {
      const other = await enrol(agent, programId, 'newline@example.com');
      const response = await agent.send(
        `mutation($i: ChangeMemberStatusInput!) { changeMemberStatus(input: $i) { member { status } userErrors { code } } }`,
        { i: { memberId: other, status: 'SUSPENDED', reason: 'Called in:\n\tcard lost\r\nblocked' } },
      );
      expect(response.errors).toBeUndefined();
      expect(response.data).toEqual({ changeMemberStatus: { member: { status: 'SUSPENDED' }, userErrors: [] } });
    });

    it('is refused by every subgraph itself too, whoever calls it', async () => {
      const members = await graph.service('members');
      const response = await members.send(`query($p: ID!, $v: String!) { memberByIdentifier(programId: $p, type: EMAIL, value: $v) { id } }`, { p: programId, v: 'x\u0000@example.com' });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.extensions?.['field']).toBe('value');
    });
  });

  describe('a request body over the limit', () => {
    it('is answered 413 with a GraphQL error and Connection: close, not a reset connection', async () => {
      const huge = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } });
      const response = await post(graph.gatewayUrl, huge);
      expect(response.status).toBe(413);
      expect(response.headers.get('connection')).toBe('close');
      expect(response.body.errors?.[0]?.extensions?.['code']).toBe('PAYLOAD_TOO_LARGE');
    });

    it('is answered 413 when streamed in chunks without a declared length, and the server keeps serving', async () => {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(graph.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        const chunk = Buffer.alloc(64 * 1024, 'a');
        for (let i = 0; i < 40; i++) req.write(chunk); // 2.5 MiB
        req.end();
      });
      expect(status).toBe(413);
      expect(JSON.parse(body)).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      expect((await sendOperation(graph.gatewayUrl, '{ __typename }')).data).toEqual({ __typename: 'Query' });
    });

    it('accepts a body just under the limit', async () => {
      const padding = 'x'.repeat(1024 * 1024 - 200);
      const response = await post(graph.gatewayUrl, JSON.stringify({ query: `{ __typename }`, extensions: { padding } }));
      expect(response.status).toBe(200);
    });
  });
});

describe('a subgraph that is down', () => {
  let graph: TestSupergraph;
  let programId: string;
  let memberId: string;
  let agent: Caller;

  beforeAll(async () => {
    graph = await startSupergraph();
    ({ programId, agent } = await createTestProgram(graph));
    memberId = await enrol(agent, programId, 'down@example.com');
    await graph.subgraphs['ledger']!.stop();
  });
  afterAll(() => graph?.stop());

  it('leaves its fields null with SUBGRAPH_UNAVAILABLE naming it, and the rest answered, HTTP 200', async () => {
    const member = await graph.asMember(programId, memberId);
    const response = await member.send('{ me { id status points { available } } }');
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ me: { id: memberId, status: 'ACTIVE', points: null } });
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]!.path).toEqual(['me', 'points']);
    expect(response.errors![0]!.extensions).toEqual({ code: 'SUBGRAPH_UNAVAILABLE', service: 'ledger', retryable: true });
    expect(response.errors![0]!.message).toMatch(/ledger/);
  });

  it('says it once, without a path, for a list of entities', async () => {
    await enrol(agent, programId, 'down-2@example.com');
    const response = await agent.send(`query($p: ID!) { members(programId: $p) { nodes { id points { available } } } }`, { p: programId });
    expect(response.status).toBe(200);
    const nodes = (response.data as { members: { nodes: { id: string; points: unknown }[] } }).members.nodes;
    expect(nodes).toHaveLength(2);
    expect(nodes.every((n) => n.points === null)).toBe(true);
    expect(response.errors?.map((e) => e.extensions)).toEqual([{ code: 'SUBGRAPH_UNAVAILABLE', service: 'ledger', retryable: true }]);
  });

  it('names the root field it owns when a whole operation goes to it', async () => {
    const response = await agent.send(RECORD_PURCHASE, { i: purchase(memberId) });
    expect(response.status).toBe(200);
    expect(response.errors?.map((e) => [e.path, e.extensions])).toEqual([[['recordPurchase'], { code: 'SUBGRAPH_UNAVAILABLE', service: 'ledger', retryable: true }]]);
  });

  it('keeps answering what other subgraphs own', async () => {
    const response = await agent.send(`query($p: ID!) { program(id: $p) { id } }`, { p: programId });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ program: { id: programId } });
  });
});

describe('a subgraph that does not answer in time', () => {
  let members: RunningSubgraph;
  let silent: Server;
  const sockets = new Set<Socket>();
  let gateway: RunningGateway;
  let operatorToken: string;
  let tokens: ReturnType<typeof createDevTokenIssuer>;

  beforeAll(async () => {
    const internalSecret = randomBytes(32).toString('hex');
    const jwtSecret = randomBytes(32).toString('hex');
    members = await startTestSubgraph(SUBGRAPHS.find((s) => s.name === 'members')!, { internalSecret });
    // A "ledger" that accepts connections and never says a word.
    silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}/graphql`;
    const supergraphSdl = composeSupergraph(SUBGRAPHS.map((m) => ({ name: m.name, typeDefs: m.typeDefs, url: m.name === 'members' ? members.url : silentUrl })));
    gateway = await startGateway(
      {
        supergraphSdl,
        authenticate: createAuthenticator({ issuer: 'i', audience: 'a', secret: jwtSecret }),
        internalSecret,
        logger: createLogger('gateway', 'silent'),
        development: false,
        subgraphTimeoutMs: 300,
      },
      0,
    );
    tokens = createDevTokenIssuer({ secret: jwtSecret, issuer: 'i', audience: 'a' });
    operatorToken = await tokens.staff({ programId: null, roles: ['ADMIN'], subject: 'op' });
  });
  afterAll(async () => {
    await gateway?.stop();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
    await members?.stop();
  });

  it('answers the rest, its part null with SUBGRAPH_TIMEOUT, retryable for a query and not for a mutation', async () => {
    const operator = { headers: bearer(operatorToken) };
    const created = await sendOperation<{ createProgram: { program: { id: string } } }>(
      gateway.url,
      `mutation { createProgram(input: { name: "Slow", type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "0.01", currency: "EUR" }, status: ACTIVE }) { program { id } } }`,
      {},
      operator.headers,
    );
    const programId = created.data!.createProgram.program.id;
    const enrolled = await sendOperation<{ enrollMember: { member: { id: string } } }>(gateway.url, ENROL, { p: programId, e: 'slow@example.com' }, operator.headers);
    const memberId = enrolled.data!.enrollMember.member.id;

    const member = bearer(await tokens.member({ programId, memberId, subject: 'slow-member' }));
    const started = Date.now();
    const query = await sendOperation(gateway.url, '{ me { id points { available } } }', {}, member);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(query.status).toBe(200);
    expect(query.data).toEqual({ me: { id: memberId, points: null } });
    expect(query.errors?.map((e) => e.extensions)).toEqual([{ code: 'SUBGRAPH_TIMEOUT', service: 'ledger', retryable: true }]);

    const agent = bearer(await tokens.staff({ programId, roles: ['AGENT'], subject: 'slow-agent' }));
    const mutation = await sendOperation(gateway.url, RECORD_PURCHASE, { i: purchase(memberId) }, agent);
    expect(mutation.status).toBe(200);
    // The ledger may have recorded it: sending it again is safe only with the same idempotency key.
    expect(mutation.errors?.map((e) => [e.path, e.extensions])).toEqual([[['recordPurchase'], { code: 'SUBGRAPH_TIMEOUT', service: 'ledger', retryable: false }]]);
    expect(mutation.errors![0]!.message).toMatch(/idempotency key/);
  });
});
