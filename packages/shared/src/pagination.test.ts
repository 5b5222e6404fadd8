import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decodeCursor, encodeCursor, pageSize, toConnection } from './pagination';

function badInputField(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions['code']).toBe('BAD_USER_INPUT');
    return (error as GraphQLError).extensions['field'];
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('pageSize', () => {
  it('uses the default page size when the client does not ask', () => {
    expect(pageSize(undefined)).toBe(DEFAULT_PAGE_SIZE);
    expect(pageSize(null)).toBe(DEFAULT_PAGE_SIZE);
  });

  it('gives the client what it asks for between 1 and the maximum', () => {
    expect(pageSize(1)).toBe(1);
    expect(pageSize(MAX_PAGE_SIZE)).toBe(MAX_PAGE_SIZE);
  });

  it.each([0, -5, MAX_PAGE_SIZE + 1, 10_000, 2.5])('rejects first = %s with a clear error on "first"', (first) => {
    expect(badInputField(() => pageSize(first))).toBe('first');
  });
});

describe('cursors', () => {
  it('round-trip the keyset values of the last row, as strings', () => {
    const cursor = encodeCursor(['2026-01-01T00:00:00.000Z', 42]);
    expect(decodeCursor(cursor, 2)).toEqual(['2026-01-01T00:00:00.000Z', '42']);
  });

  it('mean "from the start" when absent', () => {
    expect(decodeCursor(null, 1)).toBeNull();
    expect(decodeCursor(undefined, 1)).toBeNull();
  });

  it.each([
    ['garbage', 'not base64 json at all!'],
    ['a cursor of another list (wrong arity)', encodeCursor(['a'])],
    ['a tampered cursor', Buffer.from(JSON.stringify([{ id: 1 }, 'x'])).toString('base64url')],
  ])('rejects %s with a clear error on "after"', (_label, cursor) => {
    expect(badInputField(() => decodeCursor(cursor, 2))).toBe('after');
  });
});

describe('toConnection', () => {
  const cursorOf = (n: number) => `c${n}`;

  it('returns one page and says another exists when the extra row came back', () => {
    const connection = toConnection([1, 2, 3], 2, cursorOf);
    expect(connection.nodes).toEqual([1, 2]);
    expect(connection.edges).toEqual([
      { cursor: 'c1', node: 1 },
      { cursor: 'c2', node: 2 },
    ]);
    expect(connection.pageInfo).toEqual({ hasNextPage: true, endCursor: 'c2' });
  });

  it('says the last page is the last', () => {
    expect(toConnection([1, 2], 2, cursorOf).pageInfo).toEqual({ hasNextPage: false, endCursor: 'c2' });
  });

  it('has no end cursor for an empty list', () => {
    expect(toConnection([], 20, cursorOf)).toEqual({ edges: [], nodes: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });
});

describe('decodeInstantIdCursor', () => {
  it('refuses an impossible date that JavaScript would silently roll over', async () => {
    const { decodeInstantIdCursor } = await import('./pagination');
    const cursor = encodeCursor(['2026-02-31T00:00:00.000Z', '7d5bcb4e-3a5e-4c1b-9a53-1f6d3d0c2a10']);
    expect(() => decodeInstantIdCursor(cursor)).toThrow(/not a cursor/);
  });
});
