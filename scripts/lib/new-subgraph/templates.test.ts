import { describe, expect, it } from 'vitest';
import { placeholders, renderTemplates } from './templates';

describe('the subgraph templates', () => {
  it('render the house shape with every placeholder filled', async () => {
    const files = await renderTemplates(placeholders('catalog', 4003, new Date(1_765_000_000_000)));
    expect(files.map((file) => file.path)).toEqual(
      expect.arrayContaining([
        'package.json',
        'schema.graphql',
        'codegen.json',
        'README.md',
        'src/main.ts',
        'src/server.ts',
        'src/context.ts',
        'src/loaders.ts',
        'src/index.ts',
        'src/resolvers/index.ts',
        'src/resolvers/query.ts',
        'src/resolvers/catalog-item.ts',
        'src/domain/policy.ts',
        'src/domain/policy.test.ts',
        'src/entities/index.ts',
        'src/entities/catalog-item.ts',
        'src/migrations/index.ts',
        'src/migrations/1765000000000-initial-schema.ts',
        'test/catalog.test.ts',
      ]),
    );
    for (const file of files) expect(file.content, file.path).not.toMatch(/\{\{|\}\}/);
    expect(JSON.parse(files.find((file) => file.path === 'package.json')!.content)).toMatchObject({ name: '@loyalty-graph/catalog' });
    expect(files.find((file) => file.path === 'src/server.ts')!.content).toMatch(/name: 'catalog',\n {2}port: 4003,/);
  });

  it('refuse a template with an unknown placeholder', async () => {
    const { Type: _type, ...withoutType } = placeholders('catalog', 4003, new Date());
    await expect(renderTemplates(withoutType)).rejects.toThrow(/Unknown placeholder \{\{Type\}\}/);
  });
});
