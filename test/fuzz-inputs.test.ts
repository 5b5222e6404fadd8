import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Property-based: for every argument and input field of every root field (and of the fields with
 * arguments one level below a query's root), derived from the gateway's schema, bad values of every
 * kind — wrong types, control characters, huge strings, malformed Decimal/DateTime/BigInt/ID/enums,
 * null for non-null, extra fields, deep nesting — sent as variables or literals, by anonymous,
 * member, agent, admin and operator callers. None may get HTTP 5xx or INTERNAL_SERVER_ERROR, and
 * every service must still answer afterwards.
 *
 * FUZZ_SEED (default 9) fixes the values; FUZZ_RUNS (default 4) is how many bad values each
 * argument position gets (about 260 positions: 4 runs, ~1,000 requests, take ~5 s here; 12 runs
 * ~15 s). FUZZ_CONCURRENCY (default 4) requests at a time; FUZZ_TRACE=<file> appends each case
 * before it is sent (with FUZZ_CONCURRENCY=1 the last line names a request that hangs the process);
 * FUZZ_VERBOSE=1 prints how many answers of each status and code there were.
 */
const SEED = Number(process.env['FUZZ_SEED'] ?? 9);
const RUNS_PER_POSITION = Number(process.env['FUZZ_RUNS'] ?? 4);
const CONCURRENCY = Number(process.env['FUZZ_CONCURRENCY'] ?? 4);

type Role = 'anonymous' | 'member' | 'agent' | 'admin' | 'operator';
const ROLES: Role[] = ['anonymous', 'member', 'agent', 'admin', 'operator'];

/** Where a bad value goes: a root field, maybe a field with arguments below it, an argument, a path inside it. */
interface Position {
  operation: 'query' | 'mutation';
  root: GraphQLField<unknown, unknown>;
  nested?: GraphQLField<unknown, unknown>;
  argument: GraphQLArgument;
  /** Input field names from the argument down to the position ('0' for a list item). */
  path: string[];
  type: GraphQLInputType;
}

interface Case {
  position: Position;
  value: unknown;
  role: Role;
  literal: boolean;
}

interface Ids {
  programId: string;
  memberId: string;
  /** Entities that exist, so an id argument named after them reaches the code behind the lookup. */
  existing: Record<'tier' | 'group' | 'charity' | 'purchase' | 'hold' | 'entry', string>;
}

// ---- valid values: everything around the bad one is well formed, so the bad one is what is judged ----

function validValue(type: GraphQLInputType, name: string, ids: Ids, depth = 0): unknown {
  if (isNonNullType(type)) return validValue(type.ofType, name, ids, depth);
  if (isListType(type)) return depth > 5 ? [] : [validValue(type.ofType, name, ids, depth + 1)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    if (depth > 5) return value;
    for (const field of Object.values(type.getFields())) {
      if (isNonNullType(field.type) && field.defaultValue === undefined) value[field.name] = validValue(field.type, field.name, ids, depth + 1);
    }
    return value;
  }
  switch (type.name) {
    case 'ID': {
      // By name: holdId, memberGroup's id, correctsEntryId … (an `id` argument goes by its field's name).
      const entity = (Object.keys(ids.existing) as (keyof Ids['existing'])[]).find((kind) => name.toLowerCase().includes(kind));
      if (entity) return ids.existing[entity];
      if (/program/i.test(name)) return ids.programId;
      if (/member/i.test(name)) return ids.memberId;
      return randomUUID();
    }
    case 'Int':
      return 1;
    case 'Float':
      return 1.5;
    case 'Boolean':
      return true;
    case 'Decimal':
      return '10.00';
    case 'DateTime':
      return '2026-11-20T10:00:00Z';
    case 'BigInt':
      return '1';
    default:
      return /key/i.test(name) ? `fuzz-key-${randomUUID()}` : /email/i.test(name) ? 'fuzz@example.com' : /currency/i.test(name) ? 'EUR' : 'fuzz';
  }
}

// ---- bad values, by what the position expects ----

const CONTROL = [...Array(32).keys()].filter((c) => ![9, 10, 13].includes(c)).map((c) => String.fromCharCode(c));

function deepList(depth: number): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}
function deepObject(depth: number): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

const anyWrong = fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 2 ** 31, -(2 ** 53), 1e308, '', ' ', {}, [], [null], deepList(60), deepObject(60));
const controlString = fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...CONTROL), fc.string({ maxLength: 8 })).map(([a, c, b]) => a + c + b);
const oddString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('\ud800', 'a\udfffb', "'; DROP TABLE members; --", '%_\\', '${x}', '\u202e', '\ufeff', '🏳️‍🌈'.repeat(50), '0x1F'),
  fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'x'.repeat(n)),
);
const stringish = fc.oneof(controlString, oddString);

function badScalar(type: GraphQLNamedType): fc.Arbitrary<unknown> {
  switch (type.name) {
    case 'Int':
      return fc.constantFrom<unknown>(2 ** 31, -(2 ** 31) - 1, 1.5, '1', 'one', 1e21, -1, 0, 2 ** 53 + 2);
    case 'Float':
      return fc.constantFrom<unknown>('1.5', 'NaN', 'Infinity', {});
    case 'Boolean':
      return fc.constantFrom<unknown>('true', 1, 0, 'yes');
    case 'Decimal':
      return fc.constantFrom<unknown>('1e5', 'NaN', 'Infinity', '1'.repeat(30), '0.123456789', '-', '.5', '5.', ' 5', '5 ', '١٢', 1e21, 0.1, -0.000001, '12,50', '+5', '0x10', '99999999999999999999.99', '-999999999999999999.99999999');
    case 'DateTime':
      return fc.constantFrom<unknown>('2026-02-30T00:00:00Z', '9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '2026-01-01', '2026-01-01T25:00:00Z', '+275760-09-13T00:00:00Z', 1_700_000_000_000, 'now', '2026-11-20T10:00:00+25:00', '1969-12-31T23:59:59.999999999Z');
    case 'BigInt':
      return fc.constantFrom<unknown>('9223372036854775808', '-9223372036854775809', '1.0', 'abc', 2 ** 63, '00000000000000000000001', '-0');
    case 'ID':
      return fc.oneof(
        fc.constantFrom<unknown>('not-a-uuid', '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', 12, randomUUID() + '\u0000'),
        fc.uuid(),
        stringish,
      );
    default:
      return stringish;
  }
}

/** Values of the right type that business code must still judge: extremes, strangers' ids, huge or odd text. */
function wellTypedOdd(type: GraphQLNamedType, ids: Ids): fc.Arbitrary<unknown> {
  switch (type.name) {
    case 'Int':
      return fc.constantFrom<unknown>(0, -1, 2_147_483_647, -2_147_483_648, 1_000_000);
    case 'Float':
      return fc.constantFrom<unknown>(0, -1e308, 1e308, 5e-324);
    case 'Boolean':
      return fc.boolean();
    case 'Decimal':
      return fc.constantFrom<unknown>('0', '-0.01', '999999999999999999.99999999', '-999999999999999999', '0.00000001', '1.5', '-0');
    case 'DateTime':
      return fc.constantFrom<unknown>('9999-12-31T23:59:59Z', '0001-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '2026-11-20T10:00:00+14:00', '2030-01-01T00:00:00.123456Z');
    case 'BigInt':
      return fc.constantFrom<unknown>('9223372036854775807', '-9223372036854775808', '0');
    case 'ID':
      return fc.oneof(fc.uuid(), fc.constantFrom(ids.programId, ids.memberId));
    default:
      return fc.oneof(
        oddString,
        fc.constantFrom('', '   ', '\t\n', 'fuzz@example.com', '+4512345678', 'NFC00000001', 'EUR', 'XXX', 'a'.repeat(101), 'a'.repeat(10_001)),
      );
  }
}

function oddButValid(type: GraphQLInputType, ids: Ids): fc.Arbitrary<unknown> {
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    const item = validValue(nullable.ofType, '', ids);
    return fc.oneof(fc.constant([]), fc.constant(Array.from({ length: 1_000 }, () => item)), oddButValid(nullable.ofType, ids).map((odd) => [odd, odd]));
  }
  if (isEnumType(nullable)) return fc.constantFrom(...nullable.getValues().map((v) => v.value as unknown));
  if (isInputObjectType(nullable)) {
    // Every optional field filled in as well, so less travelled branches run.
    const fields = Object.values(nullable.getFields());
    return fc.constant(Object.fromEntries(fields.map((field) => [field.name, validValue(field.type, field.name, ids, 1)])));
  }
  return wellTypedOdd(nullable, ids);
}

function badValue(type: GraphQLInputType, ids: Ids): fc.Arbitrary<unknown> {
  const nullable = getNullableType(type);
  const kinds: fc.Arbitrary<unknown>[] = [anyWrong];
  if (isNonNullType(type)) kinds.push(fc.constant(null));
  if (isListType(nullable)) {
    const item = validValue(nullable.ofType, '', ids);
    kinds.push(fc.constantFrom<unknown>(Array.from({ length: 5_000 }, () => item), [item, null], [[item]], 'x'));
    kinds.push(badValue(nullable.ofType, ids).map((bad) => [item, bad]));
  } else if (isEnumType(nullable)) {
    const first = nullable.getValues()[0]!.value as string;
    kinds.push(fc.constantFrom<unknown>('NOPE', first.toLowerCase(), `${first} `, 42, `${first}\u0000`));
  } else if (isInputObjectType(nullable)) {
    const valid = validValue(nullable, '', ids) as Record<string, unknown>;
    kinds.push(fc.constantFrom<unknown>({ ...valid, unexpected: 1 }, {}, deepObject(80), [valid]));
  } else if (isScalarType(nullable)) {
    kinds.push(badScalar(nullable), stringish);
  }
  // Half the values are of the right type, so they get past validation to the code behind it.
  return fc.oneof({ arbitrary: fc.oneof(...kinds), weight: 1 }, { arbitrary: oddButValid(type, ids), weight: 1 });
}

// ---- the positions: every argument, and every input field inside it ----

function positionsOf(schema: GraphQLSchema): Position[] {
  const positions: Position[] = [];
  const walk = (base: Omit<Position, 'path' | 'type'>, type: GraphQLInputType, path: string[], seen: Set<string>) => {
    positions.push({ ...base, path, type });
    const nullable = getNullableType(type);
    if (isListType(nullable)) return walk(base, nullable.ofType, [...path, '0'], seen);
    if (!isInputObjectType(nullable) || seen.has(nullable.name)) return;
    for (const field of Object.values(nullable.getFields())) walk(base, field.type, [...path, field.name], new Set([...seen, nullable.name]));
  };
  for (const [operation, root] of [['query', schema.getQueryType()], ['mutation', schema.getMutationType()]] as const) {
    for (const field of Object.values((root as GraphQLObjectType).getFields())) {
      for (const argument of field.args) walk({ operation, root: field, argument }, argument.type, [], new Set());
      // Fields with arguments one level down (a member's statement, a program's members).
      const returned = getNamedType(field.type);
      if (operation !== 'query' || isLeafType(returned) || !('getFields' in returned)) continue;
      for (const nested of Object.values((returned as GraphQLObjectType).getFields())) {
        for (const argument of nested.args) walk({ operation, root: field, nested, argument }, argument.type, [], new Set());
      }
    }
  }
  return positions;
}

// ---- building the request ----

function literal(value: unknown, type: GraphQLInputType | undefined): string {
  const nullable = type ? getNullableType(type) : undefined;
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map((item) => literal(item, nullable && isListType(nullable) ? nullable.ofType : undefined)).join(', ')}]`;
  if (typeof value === 'object') {
    const fields = nullable && isInputObjectType(nullable) ? nullable.getFields() : {};
    return `{ ${Object.entries(value)
      .filter(([key]) => /^[_A-Za-z][_0-9A-Za-z]*$/.test(key))
      .map(([key, item]) => `${key}: ${literal(item, fields[key]?.type)}`)
      .join(', ')} }`;
  }
  if (typeof value === 'string' && nullable && isEnumType(nullable) && /^[_A-Za-z][_0-9A-Za-z]*$/.test(value) && !['true', 'false', 'null'].includes(value)) return value;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function withBadValue(valid: unknown, path: string[], bad: unknown): unknown {
  if (path.length === 0) return bad;
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(valid)) return [withBadValue(valid[0], rest, bad)];
  const object = (valid ?? {}) as Record<string, unknown>;
  return { ...object, [head]: withBadValue(object[head], rest, bad) };
}

function requestOf({ position, value, literal: inline }: Case, ids: Ids): { query: string; variables: Record<string, unknown> } {
  const variables: Record<string, unknown> = {};
  const definitions: string[] = [];
  const args = (field: GraphQLField<unknown, unknown>, fuzzed: boolean) =>
    field.args
      .map((argument) => {
        const isTarget = fuzzed && argument === position.argument;
        const valid = validValue(argument.type, argument.name === 'id' ? field.name : argument.name, ids);
        if (!isTarget && !isNonNullType(argument.type)) return null;
        const sent = isTarget ? withBadValue(valid, position.path, value) : valid;
        if (isTarget && inline) return `${argument.name}: ${literal(sent, argument.type)}`;
        const variable = `${fuzzed ? 'n' : 'r'}_${argument.name}`;
        definitions.push(`$${variable}: ${String(argument.type)}`);
        variables[variable] = sent;
        return `${argument.name}: $${variable}`;
      })
      .filter(Boolean)
      .join(', ');
  const call = (field: GraphQLField<unknown, unknown>, fuzzed: boolean, inner: string) => {
    const list = args(field, fuzzed);
    return `${field.name}${list ? `(${list})` : ''}${inner}`;
  };
  const selection = (field: GraphQLField<unknown, unknown>) => (isLeafType(getNamedType(field.type)) ? '' : ' { __typename }');
  const body = position.nested
    ? call(position.root, false, ` { ${call(position.nested, true, selection(position.nested))} }`)
    : call(position.root, true, selection(position.root));
  return { query: `${position.operation}${definitions.length ? `(${definitions.join(', ')})` : ''} { ${body} }`, variables };
}

function describeCase(c: Case): string {
  const where = [c.position.root.name, c.position.nested?.name, c.position.argument.name, ...c.position.path].filter(Boolean).join('.');
  const shown = JSON.stringify(c.value) ?? String(c.value);
  return `${where} as ${c.role}${c.literal ? ' (literal)' : ''} = ${shown.length > 120 ? `${shown.slice(0, 120)}… (${shown.length} chars)` : shown}`;
}

describe('every argument and input field, fuzzed through the gateway', () => {
  let graph: TestSupergraph;
  let schema: GraphQLSchema;
  let ids: Ids;
  let headers: Record<Role, Record<string, string>>;

  beforeAll(async () => {
    graph = await startSupergraph();
    const { programId, agent } = await createTestProgram(graph);
    const { enrollMember } = await agent.data<{ enrollMember: { member: { id: string } } }>(
      `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: "fuzzed@example.com" }] }) { member { id } } }`,
      { p: programId },
    );
    const memberId = enrollMember.member.id;
    const admin = await graph.asStaff(programId, ['ADMIN']);
    const made = async <T>(query: string, variables: Record<string, unknown>, pick: (data: T) => string | undefined) => {
      const id = pick(await admin.data<T>(query, variables));
      if (!id) throw new Error(`fuzz setup: ${query} made nothing`);
      return id;
    };
    type Made<K extends string, F extends string> = Record<K, { [key in F]: { id: string } | null }>;
    const key = () => `fuzz-setup-${randomUUID()}`;
    await admin.data(`mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { userErrors { code } } }`, {
      i: { idempotencyKey: key(), memberId, points: 10_000, reasonCode: 'GOODWILL', comment: 'fuzz' },
    });
    const existing = {
      tier: await made<Made<'createTier', 'tier'>>(`mutation($p: ID!) { createTier(input: { programId: $p, name: "Fuzz", rank: 9, qualifyingThreshold: 900000 }) { tier { id } } }`, { p: programId }, (d) => d.createTier.tier?.id),
      group: await made<Made<'createMemberGroup', 'group'>>(`mutation($p: ID!) { createMemberGroup(input: { programId: $p, type: AFFINITY, name: "Fuzz" }) { group { id } } }`, { p: programId }, (d) => d.createMemberGroup.group?.id),
      charity: await made<Made<'createCharity', 'charity'>>(`mutation($p: ID!) { createCharity(input: { programId: $p, name: "Fuzz" }) { charity { id } } }`, { p: programId }, (d) => d.createCharity.charity?.id),
      purchase: await made<Made<'recordPurchase', 'purchase'>>(
        `mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) { purchase { id } } }`,
        { i: { idempotencyKey: key(), memberId, source: 'till', externalId: 'fuzz-1', basket: { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 's', category: 'c', quantity: 1, amount: '100.00' }] } } },
        (d) => d.recordPurchase.purchase?.id,
      ),
      hold: await made<Made<'holdPoints', 'hold'>>(`mutation($i: HoldPointsInput!) { holdPoints(input: $i) { hold { id } } }`, { i: { idempotencyKey: key(), memberId, points: 10, reference: 'fuzz' } }, (d) => d.holdPoints.hold?.id),
      entry: '',
    };
    existing.entry = (await admin.data<{ adjustPoints: { entry: { id: string } } }>(`mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { entry { id } } }`, {
      i: { idempotencyKey: key(), memberId, points: 5, reasonCode: 'GOODWILL', comment: 'fuzz' },
    })).adjustPoints.entry.id;
    ids = { programId, memberId, existing };
    const introspection = await graph.anonymous.data<IntrospectionQuery>(getIntrospectionQuery());
    schema = buildClientSchema(introspection);
    const token = async (role: Role) => {
      if (role === 'anonymous') return {};
      if (role === 'member') return bearer(await graph.tokens.member({ programId, memberId: ids.memberId, subject: 'fuzz-member' }));
      if (role === 'operator') return bearer(await graph.tokens.staff({ programId: null, roles: ['ADMIN'], subject: 'fuzz-operator' }));
      return bearer(await graph.tokens.staff({ programId, roles: [role === 'agent' ? 'AGENT' : 'ADMIN'], subject: `fuzz-${role}` }));
    };
    headers = Object.fromEntries(await Promise.all(ROLES.map(async (role) => [role, await token(role)]))) as typeof headers;
  });
  afterAll(() => graph?.stop());

  it('answers every bad value without 5xx or INTERNAL_SERVER_ERROR, and every service still answers', async () => {
    const positions = positionsOf(schema);
    expect(positions.length).toBeGreaterThan(100);
    const cases: Case[] = positions.flatMap((position, i) =>
      fc.sample(
        fc.record({ value: badValue(position.type, ids), role: fc.constantFrom(...ROLES), literal: fc.boolean() }).map((c) => ({ ...c, position })),
        { seed: SEED + i, numRuns: RUNS_PER_POSITION },
      ),
    );

    const failures: string[] = [];
    const seen = new Map<string, number>();
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const { query, variables } = requestOf(c, ids);
        if (process.env['FUZZ_TRACE']) appendFileSync(process.env['FUZZ_TRACE'], `${describeCase(c)}\n`);
        try {
          const response = await fetch(graph.gatewayUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers[c.role] },
            body: JSON.stringify({ query, variables }),
          });
          const text = await response.text();
          let codes: string[] = [];
          try {
            codes = ((JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] }).errors ?? []).map((e) => String(e.extensions?.code));
          } catch {
            failures.push(`${describeCase(c)} → ${response.status} non-JSON: ${text.slice(0, 200)}`);
            continue;
          }
          for (const code of codes.length ? codes : ['(ok)']) seen.set(`${response.status} ${code}`, (seen.get(`${response.status} ${code}`) ?? 0) + 1);
          if (response.status >= 500 || codes.includes('INTERNAL_SERVER_ERROR') || codes.includes('undefined')) {
            failures.push(`${describeCase(c)} → ${response.status} ${text.slice(0, 300)}`);
          }
        } catch (error) {
          failures.push(`${describeCase(c)} → ${String(error)} ${String((error as Error).cause ?? '')}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    if (process.env['FUZZ_VERBOSE']) process.stderr.write(`${cases.length} cases: ${JSON.stringify([...seen].sort((a, b) => b[1] - a[1]))}\n`);
    expect(failures, `${failures.length} of ${cases.length} cases failed`).toEqual([]);

    // Every service still answers: readiness, and a query each subgraph serves.
    for (const url of [graph.gatewayUrl, ...Object.values(graph.subgraphs).map((s) => s.url)]) {
      expect((await fetch(new URL('/ready', url))).status).toBe(200);
    }
    const operator = graph.withToken((headers.operator['authorization'] ?? '').replace('Bearer ', ''));
    const answer = await operator.data<{ program: { id: string }; ledgerOperations: { __typename: string } }>(
      `query($p: ID!) { program(id: $p) { id } ledgerOperations { __typename } }`,
      { p: ids.programId },
    );
    expect(answer.program.id).toBe(ids.programId);
  }, 120_000);
});

describe('any HTTP request, fuzzed at the gateway', () => {
  let graph: TestSupergraph;
  beforeAll(async () => {
    graph = await startSupergraph();
  });
  afterAll(() => graph?.stop());

  it('answers every malformed request with a 4xx or a GraphQL answer, never a 5xx or INTERNAL_SERVER_ERROR', async () => {
    const token = await graph.tokens.staff({ programId: null, roles: ['ADMIN'], subject: 'http-fuzz' });
    const operations = [
      '{ __typename }',
      'query A { __typename } query B { __typename }',
      'mutation { __typename }',
      'subscription { x }',
      '{ programs { nodes { id } } }',
      '{ me { id points { available } } }',
      '{',
      '}'.repeat(1000),
      '{ __schema { types { name } } }',
      `{ ${'a: __typename '.repeat(500)} }`,
      'query($v: Int!) { programs(first: $v) { nodes { id } } }',
      'fragment F on Query { __typename } { ...F ...F }',
      'fragment F on Query { ...F } { ...F }',
      '{ __typename @skip(if: true) @include(if: false) }',
      '{ __typename @deprecated }',
      '{ programs { nodes { ... on Member { id } } } }',
    ];
    const operation = fc.oneof(fc.string(), fc.constantFrom(...operations));
    const body = fc.oneof(
      // Mostly well-formed GraphQL-over-HTTP bodies, so the pipeline behind the parser is reached.
      { arbitrary: fc.record({ query: operation, variables: fc.option(fc.jsonValue()), operationName: fc.option(fc.constantFrom('A', 'B', 'C')) }, { requiredKeys: ['query'] }).map((b) => JSON.stringify(b)), weight: 4 },
      fc.record({ query: fc.oneof(operation, fc.jsonValue()), variables: fc.jsonValue(), operationName: fc.jsonValue(), extensions: fc.jsonValue() }, { requiredKeys: [] }).map((b) => JSON.stringify(b)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string(),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      contentType: fc.constantFrom('application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'application/graphql-response+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ''),
      accept: fc.constantFrom('application/json', 'application/graphql-response+json', 'text/html', 'multipart/mixed', '*/*', ''),
      authorization: fc.oneof(fc.constant(''), fc.constant(`Bearer ${token}`), fc.string().map((t) => `Bearer ${t}`), fc.string()),
      preflight: fc.boolean(),
      body,
      search: fc.oneof(fc.constant(''), operation.map((q) => `?query=${encodeURIComponent(q)}`), fc.string().map((q) => `?${encodeURIComponent(q)}=${encodeURIComponent(q)}&variables=${encodeURIComponent(q)}`)),
    });
    // Every listed operation as a clean POST (anonymous and with a token), then random requests.
    const clean = (query: string, authorization: string) => ({ method: 'POST', contentType: 'application/json', accept: '', authorization, preflight: false, body: JSON.stringify({ query }), search: '' });
    const cases = [...operations.flatMap((q) => [clean(q, ''), clean(q, `Bearer ${token}`)]), ...fc.sample(request, { seed: SEED, numRuns: 75 * RUNS_PER_POSITION })];
    const failures: string[] = [];
    for (const c of cases) {
      const headers: Record<string, string> = {};
      if (c.contentType) headers['content-type'] = c.contentType;
      if (c.accept) headers['accept'] = c.accept;
      if (c.preflight) headers['apollo-require-preflight'] = 'true';
      // fetch refuses header values it cannot send; such a request never leaves the client.
      if (c.authorization && /^[\t\x20-\x7e]*$/.test(c.authorization)) headers['authorization'] = c.authorization;
      const withBody = !['GET', 'HEAD', 'OPTIONS'].includes(c.method);
      try {
        const response = await fetch(`${graph.gatewayUrl}${c.search}`, { method: c.method, headers, ...(withBody ? { body: c.body } : {}) });
        const text = await response.text();
        if (response.status >= 500 || text.includes('INTERNAL_SERVER_ERROR')) failures.push(`${JSON.stringify(c).slice(0, 300)} → ${response.status} ${text.slice(0, 200)}`);
      } catch (error) {
        failures.push(`${JSON.stringify(c).slice(0, 300)} → ${String(error)} ${String((error as Error).cause ?? '')}`);
      }
    }
    expect(failures, `${failures.length} of ${cases.length} requests failed`).toEqual([]);
    expect((await fetch(new URL('/ready', graph.gatewayUrl))).status).toBe(200);
  }, 120_000);
});
