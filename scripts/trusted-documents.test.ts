import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { parseTrustedDocuments } from '@loyalty-graph/gateway';
import { buildManifest } from './trusted-documents';

const schema = buildSchema(readFileSync(new URL('../supergraph.graphql', import.meta.url), 'utf8'));

describe('pnpm trusted-documents', () => {
  it('writes one entry per operation with the fragments it uses, its id the sha256 of its body', () => {
    const manifest = buildManifest(
      [
        { path: 'a.graphql', text: `query Card { me { ...Card } } query Plain { me { id } }` },
        { path: 'b.graphql', text: `fragment Card on Member { id tier { ...Badge } } fragment Badge on Tier { name } fragment Unused on Tier { rank }` },
      ],
      schema,
    );
    expect(manifest.format).toBe('apollo-persisted-query-manifest');
    expect(manifest.operations.map((o) => [o.name, o.type])).toEqual([
      ['Card', 'query'],
      ['Plain', 'query'],
    ]);
    const card = manifest.operations[0]!;
    expect(card.body).toContain('fragment Badge on Tier');
    expect(card.body).toContain('fragment Card on Member');
    expect(card.body).not.toContain('Unused');
    expect(manifest.operations[1]!.body).not.toContain('fragment');
    for (const operation of manifest.operations) expect(operation.id).toBe(createHash('sha256').update(operation.body).digest('hex'));
    // the gateway reads what the script writes
    expect(parseTrustedDocuments(JSON.stringify(manifest)).get(card.id)).toBe(card.body);
  });

  it('is stable: the same operations give the same ids, however the files are laid out', () => {
    const one = buildManifest([{ path: 'a.graphql', text: `query Q { me { ...F } }\nfragment F on Member { id }` }], schema);
    const two = buildManifest(
      [
        { path: 'f.graphql', text: `fragment F on Member {\n  id\n}` },
        { path: 'q.graphql', text: `query Q {   me { ...F } }` },
      ],
      schema,
    );
    expect(two).toEqual(one);
  });

  it('fails the build on an operation the graph would refuse, an anonymous one or a duplicate name', () => {
    expect(() => buildManifest([{ path: 'a.graphql', text: `query Q { me { fristName } }` }], schema)).toThrow(/a.graphql: Q does not validate/);
    expect(() => buildManifest([{ path: 'a.graphql', text: `{ me { id } }` }], schema)).toThrow(/needs a name/);
    expect(() => buildManifest([{ path: 'a.graphql', text: `query Q { me { id } } query Q { me { firstName } }` }], schema)).toThrow(/defined twice/);
    expect(() => buildManifest([{ path: 'a.graphql', text: `query Q { me { ...Missing } }` }], schema)).toThrow(/unknown fragment Missing/);
  });
});
