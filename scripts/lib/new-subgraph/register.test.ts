import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registerInSupergraphIndex, SUPERGRAPH_INDEX } from './register';

/** The part of packages/supergraph/src/index.ts the generator edits, as it is shaped. */
const INDEX = `import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { ledgerSubgraph } from '@loyalty-graph/ledger';
import { membersSubgraph } from '@loyalty-graph/members';

export const SUBGRAPHS: SubgraphModule<ViewerContext>[] = [
  // Order matters: a subgraph starts after the ones it calls (the ledger asks members).
  membersSubgraph as unknown as SubgraphModule<ViewerContext>,
  ledgerSubgraph as unknown as SubgraphModule<ViewerContext>,
];

export const SUPERGRAPH_PATH = new URL('../../../supergraph.graphql', import.meta.url);
`;

describe('registering a subgraph in packages/supergraph/src/index.ts', () => {
  it('imports it in alphabetical order and lists it last (it starts after the ones it may call); nothing else changes', () => {
    expect(registerInSupergraphIndex(INDEX, 'catalog')).toBe(
      INDEX.replace(
        "import { ledgerSubgraph }",
        "import { catalogSubgraph } from '@loyalty-graph/catalog';\nimport { ledgerSubgraph }",
      ).replace('  ledgerSubgraph as unknown as SubgraphModule<ViewerContext>,\n', '  ledgerSubgraph as unknown as SubgraphModule<ViewerContext>,\n  catalogSubgraph as unknown as SubgraphModule<ViewerContext>,\n'),
    );
  });

  it('imports a name after every registered one after the last import', () => {
    expect(registerInSupergraphIndex(INDEX, 'partners')).toMatch(
      /import \{ membersSubgraph \} from '@loyalty-graph\/members';\nimport \{ partnersSubgraph \} from '@loyalty-graph\/partners';\n\nexport const SUBGRAPHS/,
    );
  });

  it('still understands the real file', () => {
    const index = readFileSync(new URL(`../../../${SUPERGRAPH_INDEX}`, import.meta.url), 'utf8');
    expect(registerInSupergraphIndex(index, 'zzz')).toContain('  zzzSubgraph as unknown as SubgraphModule<ViewerContext>,\n];');
  });

  it('refuses, naming the file, when the file is not shaped as expected', () => {
    expect(() => registerInSupergraphIndex('export const SUBGRAPHS = [];\n', 'catalog')).toThrow(/packages\/supergraph\/src\/index.ts does not look as expected/);
  });
});
