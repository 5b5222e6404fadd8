import { parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { argumentPathOfVariable, variableErrorLocation } from './variable-errors';

function pathOf(query: string, variable: string) {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
  return argumentPathOfVariable(document, operation, variable);
}

describe('variableErrorLocation', () => {
  it('reads the variable and the path inside it from graphql-js messages', () => {
    expect(variableErrorLocation('Variable "$i" got invalid value "abc" at "i.basket.lines[0].amount"; Decimal must be a string like "12.50"')).toEqual({
      variable: 'i',
      path: ['basket', 'lines', '0', 'amount'],
    });
    expect(variableErrorLocation('Variable "$n" got invalid value "ten"; Int cannot represent non-integer value: "ten"')).toEqual({ variable: 'n', path: [] });
  });

  it('appends the input field a message says is missing or unknown', () => {
    expect(variableErrorLocation('Variable "$i" got invalid value { a: 1 }; Field "memberId" of required type "ID!" was not provided.')).toEqual({ variable: 'i', path: ['memberId'] });
    expect(variableErrorLocation('Variable "$i" got invalid value { x: 1 } at "i.basket"; Field "x" is not defined by type "BasketInput".')).toEqual({ variable: 'i', path: ['basket', 'x'] });
  });

  it('is not fooled by a value that looks like a path', () => {
    expect(variableErrorLocation('Variable "$i" got invalid value "at \\"i.evil\\"; " at "i.note"; bad')).toEqual({ variable: 'i', path: ['note'] });
  });

  it('ignores other messages', () => {
    expect(variableErrorLocation('Cannot query field "x" on type "Query".')).toBeNull();
  });
});

describe('argumentPathOfVariable', () => {
  it('finds where a variable is used as an argument path', () => {
    expect(pathOf('query($n: Int) { members(first: $n) { id } }', 'n')).toBe('first');
    expect(pathOf('mutation($i: In!) { record(input: $i) { id } }', 'i')).toBe('');
    expect(pathOf('mutation($f: String) { enroll(input: { profile: { firstName: $f } }) { id } }', 'f')).toBe('profile.firstName');
    expect(pathOf('query($v: String) { f(list: ["a", $v]) }', 'v')).toBe('list.1');
    expect(pathOf('query($v: String) { f(a: "x") }', 'v')).toBeNull();
  });
});
