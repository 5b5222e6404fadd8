import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { composeSupergraph, SUPERGRAPH_PATH } from '@loyalty-graph/supergraph';

describe('the supergraph', () => {
  it('composes from the subgraph schemas', () => {
    expect(() => composeSupergraph()).not.toThrow();
  });

  it('is committed up to date (run `pnpm compose` after changing a schema.graphql)', () => {
    expect(readFileSync(SUPERGRAPH_PATH, 'utf8')).toBe(composeSupergraph());
  });

  it('reports composition errors instead of producing a broken supergraph', () => {
    const conflicting = [
      { name: 'a', url: 'http://a', typeDefs: 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { x: Int } type T @key(fields: "id") { id: ID! n: Int }' },
      { name: 'b', url: 'http://b', typeDefs: 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"]) type Query { y: Int } type T @key(fields: "id") { id: ID! n: String }' },
    ];
    expect(() => composeSupergraph(conflicting)).toThrow(/do not compose/);
  });
});
