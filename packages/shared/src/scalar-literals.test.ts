import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { customScalarLiterals } from './scalar-literals';

// As the gateway sees our scalars: declared in the supergraph, without parsers.
const schema = buildSchema(`
  scalar Decimal
  scalar DateTime
  scalar Opaque
  input Line { amount: Decimal!, at: DateTime, tags: [Decimal!] }
  type Query { quote(line: Line, amount: Decimal, opaque: Opaque, at: [DateTime]): Int }
`);
const errors = (query: string) => validate(schema, parse(query), [customScalarLiterals()]).map((e) => e.message);

describe('customScalarLiterals', () => {
  it('accepts well-formed literals and variables', () => {
    expect(errors('{ quote(amount: "12.50", line: { amount: 3, at: "2026-01-01T00:00:00Z", tags: ["1", "2.5"] }, at: ["2026-01-01T00:00:00Z"], opaque: "x") }')).toEqual([]);
    expect(errors('query($d: Decimal) { quote(amount: $d, line: { amount: $d }) }')).toEqual([]);
  });

  it('refuses malformed Decimal and DateTime literals with the scalars’ own messages', () => {
    expect(errors('{ quote(amount: "1e5") }')).toEqual([expect.stringMatching(/Decimal must be a string like "12.50"/)]);
    expect(errors('{ quote(line: { amount: "1", at: "2026-02-30T00:00:00Z" }) }')).toEqual([expect.stringMatching(/not a valid DateTime/)]);
    expect(errors('{ quote(line: { amount: "1", tags: ["1", true] }) }')).toHaveLength(1);
  });

  it('refuses nested lists and objects at a custom scalar, without walking them', () => {
    const nested = `${'['.repeat(200)}"1"${']'.repeat(200)}`;
    expect(errors(`{ quote(amount: ${nested}) }`)).toHaveLength(1);
    expect(errors(`{ quote(opaque: ${nested}) }`)).toEqual(['Opaque cannot be a list or an object']);
    expect(errors(`{ quote(opaque: { a: { b: 1 } }) }`)).toEqual(['Opaque cannot be a list or an object']);
    expect(errors(`{ quote(at: [[["2026-01-01T00:00:00Z"]]]) }`)).toHaveLength(1);
  });

  it('names the field, as the argument path', () => {
    const fields = (query: string) => validate(schema, parse(query), [customScalarLiterals()]).map((e) => e.extensions['field']);
    expect(fields('{ quote(amount: "x") }')).toEqual(['amount']);
    expect(fields('{ quote(line: { amount: "1", tags: ["1", "2", "nope"] }) }')).toEqual(['line.tags.2']);
    expect(fields('{ quote(at: ["2026-01-01T00:00:00Z", [1]]) }')).toEqual(['at.1']);
  });
});
