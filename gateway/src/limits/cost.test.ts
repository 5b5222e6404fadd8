import { readFileSync } from 'node:fs';
import { buildSchema, getOperationAST, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { actualCost, analyzeOperation, CostCache } from './cost';
import { DEFAULT_WEIGHTS } from './weights';

// The committed supergraph: its types and arguments are the ones the gateway prices.
const schema = buildSchema(readFileSync(new URL('../../../supergraph.graphql', import.meta.url), 'utf8'));

function analyze(query: string, variables?: Record<string, unknown>, operationName?: string) {
  const document = parse(query);
  return analyzeOperation(schema, document, getOperationAST(document, operationName)!, variables, DEFAULT_WEIGHTS);
}

const ADJUST = `adjustPoints(input: { idempotencyKey: "k", memberId: "m", points: 1, reasonCode: GOODWILL, comment: "c" }) { entry { id } userErrors { code } }`;

describe('the cost of an operation', () => {
  it('prices objects at 1 and scalars at 0', () => {
    // me (1) + tier (1); scalars free
    expect(analyze(`{ me { id firstName status tier { name rank } } }`).cost).toBe(2);
    expect(analyze(`{ __typename }`).cost).toBe(0);
  });

  it('multiplies a connection by its page size: literal, variable, default, capped at the maximum', () => {
    // members (1) + nodes: first × (member 1 + tier 1)
    expect(analyze(`{ members(programId: "p", first: 50) { nodes { id tier { name } } } }`).cost).toBe(1 + 50 * 2);
    expect(analyze(`query($n: Int) { members(programId: "p", first: $n) { nodes { id } } }`, { n: 7 }).cost).toBe(1 + 7);
    expect(analyze(`query($n: Int = 30) { members(programId: "p", first: $n) { nodes { id } } }`).cost).toBe(1 + 30);
    expect(analyze(`{ members(programId: "p") { nodes { id } } }`).cost).toBe(1 + DEFAULT_WEIGHTS.pagination.defaultSize);
    expect(analyze(`{ members(programId: "p", first: 100000) { nodes { id } } }`).cost).toBe(1 + DEFAULT_WEIGHTS.pagination.maxSize);
    // edges and nodes are both sized: asking for both pays for both
    expect(analyze(`{ members(programId: "p", first: 10) { edges { cursor node { id } } nodes { id } pageInfo { hasNextPage } } }`).cost).toBe(1 + 10 * 2 + 10 + 1);
  });

  it('multiplies nested pages: a page of members, each with a page of statement', () => {
    const query = `{ members(programId: "p", first: 100) { nodes { statement(first: 100) { nodes { id lines { amount } } } } } }`;
    // 1 + 100 × (member 1 + statement 1 + 100 × (entry 1 + 3 lines))
    expect(analyze(query).cost).toBe(1 + 100 * (1 + 1 + 100 * (1 + 3)));
  });

  it('prices lists without a page size at their assumed length', () => {
    expect(analyze(`{ me { identifiers { type value } } }`).cost).toBe(1 + DEFAULT_WEIGHTS.assumedListSize);
    expect(analyze(`{ me { referrals { status } } }`).cost).toBe(1 + DEFAULT_WEIGHTS.listSizes['Member.referrals']!);
  });

  it('makes every root field of a mutation heavier, and counts each alias as another execution', () => {
    const one = analyze(`mutation { ${ADJUST} }`);
    // payload 1 + entry 1 + userErrors 2 + mutation 10
    expect(one.cost).toBe(1 + 1 + 2 + DEFAULT_WEIGHTS.mutation);
    const many = analyze(`mutation { ${Array.from({ length: 1000 }, (_, i) => `a${i}: ${ADJUST}`).join(' ')} }`);
    expect(many.cost).toBe(1000 * one.cost);
    expect(many.aliases).toBe(1000);
  });

  it('expands fragments where they are spread, named or inline, and counts their aliases and directives', () => {
    const query = `
      query Dashboard($withTier: Boolean!) { me { ...MemberCard a: tier { name } } other: me { ...MemberCard } }
      fragment MemberCard on Member { firstName tier @include(if: $withTier) { ...TierName } identifiers { value } }
      fragment TierName on Tier { label: name }`;
    const analysis = analyze(query, { withTier: true });
    // each me: 1 + MemberCard (tier 1 + identifiers 10); first me also has a: tier (1)
    expect(analysis.cost).toBe(1 + 11 + 1 + 1 + 11);
    // other, a, and `label` once per spread of MemberCard (twice)
    expect(analysis.aliases).toBe(4);
    expect(analysis.directives).toBe(2);
    expect(analyze(`{ me { ... on Member { tier { name } } } }`).cost).toBe(2);
  });

  it('stays linear on fragments that spread each other twice, level after level', () => {
    const levels = 30;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1 ? `fragment F${i} on Member { tier { name } }` : `fragment F${i} on Member { ...F${i + 1} x${i}: tier { ...T } ...F${i + 1} }`,
    ).join('\n');
    const started = performance.now();
    const analysis = analyze(`{ me { ...F0 } } fragment T on Tier { name } ${fragments}`);
    expect(performance.now() - started).toBeLessThan(100);
    // 2^29 copies of the innermost tier: far over any limit, priced without walking them all
    expect(analysis.cost).toBeGreaterThan(2 ** 29);
    expect(analysis.aliases).toBeGreaterThan(2 ** 28);
  });

  it('prices introspection at a flat rate, and __typename at nothing', () => {
    expect(analyze(`{ __schema { types { name fields { name args { name type { name ofType { name } } } } } } }`).cost).toBe(DEFAULT_WEIGHTS.introspection);
    expect(analyze(`{ __type(name: "Member") { name } me { __typename } }`).cost).toBe(DEFAULT_WEIGHTS.introspection + 1);
  });

  it('prices the operation named, not the others in the document', () => {
    const query = `query Cheap { me { id } } query Dear { members(programId: "p", first: 100) { nodes { id } } }`;
    expect(analyze(query, {}, 'Cheap').cost).toBe(1);
    expect(analyze(query, {}, 'Dear').cost).toBe(101);
  });
});

describe('the cost of a bulk call (recordPurchases), by its lines', () => {
  const bulk = DEFAULT_WEIGHTS.bulk['Mutation.recordPurchases']!;
  const REPORT = `lines { index status purchase { id } error { code field } } recorded rejected`;
  const line = (n: number) => ({ transactionId: `t${n}`, memberId: 'm', basket: {} });
  const lines = (count: number) => Array.from({ length: count }, (_, n) => line(n));
  // payload 1 + mutation 10, then per line: its work + the report line (1) with purchase (1) and error (1)
  const priced = (count: number) => 1 + DEFAULT_WEIGHTS.mutation + count * (bulk.perItem + 3);

  it('grows with the number of lines, from the input variable', () => {
    const query = `mutation($input: RecordPurchasesInput!) { recordPurchases(input: $input) { ${REPORT} } }`;
    expect(analyze(query, { input: { lines: lines(1) } })).toMatchObject({ cost: priced(1), sized: bulk.perItem, bulk: true, variables: ['input/lines#length'] });
    expect(analyze(query, { input: { lines: lines(10) } }).cost).toBe(priced(10));
    expect(analyze(query, { input: { lines: lines(1000) } })).toMatchObject({ cost: priced(1000), sized: 1000 * bulk.perItem });
  });

  it('reads the lines from a variable inside a literal input, or from literals', () => {
    expect(analyze(`mutation($lines: [RecordPurchaseLineInput!]!) { recordPurchases(input: { lines: $lines }) { ${REPORT} } }`, { lines: lines(7) }).cost).toBe(priced(7));
    const literal = `mutation { recordPurchases(input: { lines: [${lines(3).map((l) => `{ transactionId: "${l.transactionId}", memberId: "m", basket: { currency: "EUR", channel: PARTNER, lines: [] } }`).join(' ')}] }) { ${REPORT} } }`;
    expect(analyze(literal).cost).toBe(priced(3));
  });

  it('prices a call beyond the most lines accepted at that most (the subgraph refuses it), and an unreadable list at it too', () => {
    const query = `mutation($input: RecordPurchasesInput!) { recordPurchases(input: $input) { recorded } }`;
    const full = 1 + DEFAULT_WEIGHTS.mutation + bulk.maxItems * bulk.perItem;
    expect(analyze(query, { input: { lines: lines(5000) } }).cost).toBe(full);
    expect(analyze(query, { input: {} }).cost).toBe(full);
    // Only the counts read: the work is still priced per line.
    expect(analyze(query, { input: { lines: lines(10) } }).cost).toBe(1 + DEFAULT_WEIGHTS.mutation + 10 * bulk.perItem);
  });

  it('sizes the report inside fragments by the lines too', () => {
    const query = `mutation($input: RecordPurchasesInput!) { recordPurchases(input: $input) { ...Report } } fragment Report on RecordPurchasesPayload { ${REPORT} }`;
    expect(analyze(query, { input: { lines: lines(20) } }).cost).toBe(priced(20));
  });

  it('is cached by the number of lines, not their content', () => {
    const cache = new CostCache(DEFAULT_WEIGHTS);
    const document = parse(`mutation($input: RecordPurchasesInput!) { recordPurchases(input: $input) { recorded } }`);
    const operation = getOperationAST(document)!;
    const ten = cache.analyze(schema, document, operation, { input: { lines: lines(10) } });
    expect(cache.analyze(schema, document, operation, { input: { lines: lines(10).map((l) => ({ ...l, memberId: 'other' })) } })).toBe(ten);
    expect(cache.analyze(schema, document, operation, { input: { lines: lines(11) } }).cost).toBe(ten.cost + bulk.perItem);
  });

  it('keeps the lines’ work in the actual cost, whatever the report says', () => {
    const query = `mutation($input: RecordPurchasesInput!) { recordPurchases(input: $input) { ${REPORT} } }`;
    const document = parse(query);
    const data = { recordPurchases: { lines: [{ index: 0, status: 'RECORDED', purchase: { id: 'p' }, error: null }], recorded: 1, rejected: 0 } };
    // The report's objects are counted from the data; the sized part is added by the gateway (limits.ts).
    expect(actualCost(schema, document, getOperationAST(document)!, data, DEFAULT_WEIGHTS)).toBe(1 + DEFAULT_WEIGHTS.mutation + 3);
    expect(analyze(query, { input: { lines: lines(1) } }).sized).toBe(bulk.perItem);
  });
});

describe('the cost cache', () => {
  it('reuses an analysis per document, and re-prices when a page-size variable changes', () => {
    const cache = new CostCache(DEFAULT_WEIGHTS);
    const document = parse(`query($n: Int, $status: MemberStatus) { members(programId: "p", first: $n, status: $status) { nodes { id } } }`);
    const operation = getOperationAST(document)!;
    const first = cache.analyze(schema, document, operation, { n: 5, status: 'ACTIVE' });
    expect(first.cost).toBe(6);
    expect(first.variables).toEqual(['n']);
    // a variable that sets no page size does not defeat the cache
    expect(cache.analyze(schema, document, operation, { n: 5, status: 'SUSPENDED' })).toBe(first);
    expect(cache.analyze(schema, document, operation, { n: 50 }).cost).toBe(51);
    expect(cache.analyze(schema, document, operation, { n: 5 })).toBe(first);
  });
});

describe('the actual cost, from the data returned', () => {
  const actual = (query: string, data: Record<string, unknown> | null) => {
    const document = parse(query);
    return actualCost(schema, document, getOperationAST(document)!, data, DEFAULT_WEIGHTS);
  };

  it('counts the items a page really held, not the page size', () => {
    const query = `{ members(programId: "p", first: 100) { nodes { id tier { name } } pageInfo { hasNextPage } } }`;
    const data = { members: { nodes: [{ id: '1', tier: { name: 'Gold' } }, { id: '2', tier: null }, { id: '3', tier: null }], pageInfo: { hasNextPage: false } } };
    expect(analyze(query).cost).toBe(1 + 100 * 2 + 1);
    // members 1 + 3 × (member 1 + tier 1, found or null) + pageInfo 1
    expect(actual(query, data)).toBe(1 + 3 * 2 + 1);
  });

  it('charges a null object as looked for, and nothing for a skipped one or no data at all', () => {
    expect(actual(`{ me { id } }`, { me: null })).toBe(1);
    expect(actual(`query($x: Boolean!) { me @skip(if: $x) { id } }`, {})).toBe(0);
    expect(actual(`{ me { id } }`, null)).toBe(0);
  });

  it('counts a field selected twice under one key once, as GraphQL ran it, and each alias on its own', () => {
    const query = `{ me { tier { name } ...F } other: me { id } } fragment F on Member { tier { rank } }`;
    expect(analyze(query).cost).toBe(1 + 1 + 1 + 1);
    expect(actual(query, { me: { tier: { name: 'Gold', rank: 3 } }, other: { id: '1' } })).toBe(1 + 1 + 1);
  });

  it('charges every mutation that ran its weight', () => {
    const query = `mutation { a: ${ADJUST} b: ${ADJUST} }`;
    const ran = { entry: { id: 'e' }, userErrors: [] };
    expect(actual(query, { a: ran, b: ran })).toBe(2 * (DEFAULT_WEIGHTS.mutation + 1 + 1));
  });
});
