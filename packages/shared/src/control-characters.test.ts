import { parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { controlCharacterError, findControlCharacter, forbiddenControlCharacter } from './control-characters';

/** Checked both ways: the full walk, and with the document's text (the fast path must agree). */
function find(query: string, variables?: Record<string, unknown>, operationName?: string) {
  const document = parse(query);
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
  const operation = operationName ? operations.find((o) => o.name?.value === operationName)! : operations[0]!;
  const walked = findControlCharacter(document, operation, variables);
  expect(findControlCharacter(document, operation, variables, query)).toEqual(walked);
  return walked;
}

describe('forbiddenControlCharacter', () => {
  it('finds every C0 control character but tab, line feed and carriage return', () => {
    for (let code = 0; code < 0x20; code++) {
      const text = `a${String.fromCharCode(code)}b`;
      expect(forbiddenControlCharacter(text)).toBe([9, 10, 13].includes(code) ? null : String.fromCharCode(code));
    }
  });

  it('finds a lone surrogate, but not a pair', () => {
    expect(forbiddenControlCharacter('a\udfffb')).toBe('\udfff');
    expect(forbiddenControlCharacter('a\ud800')).toBe('\ud800');
    expect(forbiddenControlCharacter('\ud83d\ude00')).toBeNull();
  });

  it('leaves printable text and non-ASCII letters alone', () => {
    expect(forbiddenControlCharacter('Zoë Ørsted-Łukasz 😀 \u00a0 ~\u007f')).toBeNull();
  });
});

describe('findControlCharacter', () => {
  it('names a literal argument by its name', () => {
    expect(find('{ member(id: "a\\u0000b") { id } }')).toEqual({ field: 'id', character: '\u0000' });
  });

  it('names fields inside input objects and lists, without the top-level input', () => {
    expect(find('mutation { enroll(input: { identifiers: [{ value: "ok" }, { value: "x\\u0001" }] }) { id } }')).toEqual({ field: 'identifiers.1.value', character: '\u0001' });
    expect(find('mutation { tag(tags: ["a", "b\\u001F"]) }')).toEqual({ field: 'tags.1', character: '\u001F' });
  });

  it('finds a raw control character inside a literal (graphql-js accepts it between quotes)', () => {
    expect(find('{ member(id: "a\u0000b") { id } }')).toEqual({ field: 'id', character: '\u0000' });
  });

  it('follows variables into their values, wherever they are used', () => {
    const query = 'mutation($i: In!, $n: String) { enroll(input: $i) { id } rename(input: { profile: { firstName: $n } }) }';
    expect(find(query, { i: { basket: { lines: [{ sku: 'a' }, { sku: 'b\u0000' }] } }, n: 'ok' })).toEqual({ field: 'basket.lines.1.sku', character: '\u0000' });
    expect(find(query, { i: {}, n: 'A\u0008' })).toEqual({ field: 'profile.firstName', character: '\u0008' });
  });

  it('checks a variable’s default when it is not sent', () => {
    expect(find('query($v: String = "x\\u0000") { f(a: $v) }')).toEqual({ field: 'a', character: '\u0000' });
    expect(find('query($v: String = "x\\u0000") { f(a: $v) }', { v: 'fine' })).toBeNull();
  });

  it('checks arguments in fragments and directives, but not in operations that do not run', () => {
    expect(find('query { ...F } fragment F on Query { f(a: "\\u0002") }')).toEqual({ field: 'a', character: '\u0002' });
    expect(find('query A { f(a: "fine") } query B { f(a: "\\u0002") }', undefined, 'A')).toBeNull();
  });

  it('accepts tab and line breaks, and ignores non-strings', () => {
    expect(find('query($v: X) { f(a: "line\\nline\\tx\\r\\n", b: 3, c: ENUM, d: $v) }', { v: { n: 1, b: true, z: null } })).toBeNull();
  });

  it('names a string `input` argument by the argument', () => {
    expect(find('{ f(input: "\\u0000") }')).toEqual({ field: 'input', character: '\u0000' });
  });
});

describe('controlCharacterError', () => {
  it('is BAD_USER_INPUT with the field and HTTP 400, naming the code point', () => {
    const error = controlCharacterError({ field: 'profile.firstName', character: '\u0000' });
    expect(error.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'profile.firstName', http: { status: 400 } });
    expect(error.message).toMatch(/profile\.firstName .*U\+0000/);
    expect(controlCharacterError({ field: 'sku', character: '\udfff' }).message).toMatch(/sku contains half of a UTF-16 surrogate pair \(U\+DFFF\)/);
  });
});
