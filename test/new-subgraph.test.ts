import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, serviceViewer, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { composeSupergraph, defaultRoutingUrl, SUBGRAPHS } from '@loyalty-graph/supergraph';
import { errorCodes, startTestSubgraph, type RunningSubgraph } from '@loyalty-graph/testing';
import { generateSubgraph, type GeneratedSubgraph } from '../scripts/lib/new-subgraph/generate';
import { README_HEADINGS } from '../scripts/lib/new-subgraph/templates';

/**
 * `pnpm new:subgraph` writes a subgraph that type-checks, lints, composes with the real ones,
 * starts and answers, without a hand edit. It never touches the repository: the generator writes
 * into a temporary workspace under the OS temp folder (a copy of the files it edits), and the new
 * package's dependencies are linked to the workspace's installed copies, as `pnpm install` would.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NAME = 'sample';
const PORT = 4090;
const run = promisify(execFile);

let workspace: string;
let generated: GeneratedSubgraph;
let module: SubgraphModule<ViewerContext>;
let sub: RunningSubgraph | undefined;

/** The generated package's dependencies point where `pnpm install` would link them; the root's node_modules is its ancestor's, as in the repository. */
async function linkDependencies(dir: string): Promise<void> {
  await symlink(join(ROOT, 'node_modules'), join(workspace, 'node_modules'), 'dir');
  const { dependencies } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const name of Object.keys(dependencies)) {
    // The subgraph kit (packages/shared) depends on everything a subgraph does.
    const target = name === '@loyalty-graph/shared' ? join(ROOT, 'packages/shared') : await realpath(join(ROOT, 'packages/shared/node_modules', name));
    await mkdir(dirname(join(dir, 'node_modules', name)), { recursive: true });
    await symlink(target, join(dir, 'node_modules', name), 'dir');
  }
}

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'lg-new-subgraph-'));
  for (const file of ['package.json', 'packages/supergraph/package.json', 'packages/supergraph/src/index.ts']) {
    await cp(join(ROOT, file), join(workspace, file), { recursive: true });
  }
  // The repository's compiler settings (TypeORM's entities need its legacy decorators), for tsc and for vitest's transform.
  await writeFile(
    join(workspace, 'tsconfig.json'),
    JSON.stringify({ extends: join(ROOT, 'tsconfig.json'), compilerOptions: { typeRoots: [join(ROOT, 'node_modules/@types')] }, include: ['subgraphs'], exclude: ['**/node_modules'] }),
  );
  generated = await generateSubgraph({ root: workspace, name: NAME, port: PORT, registered: SUBGRAPHS.map(({ name, defaultPort }) => ({ name, defaultPort })) });
  await linkDependencies(generated.dir);
  const server = (await import(pathToFileURL(join(generated.dir, 'src/server.ts')).href)) as Record<string, SubgraphModule<ViewerContext>>;
  module = server[`${NAME}Subgraph`]!;
});
afterAll(async () => {
  await sub?.stop();
  // Also when a test failed: nothing of the run stays behind.
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

describe('pnpm new:subgraph', () => {
  it('writes the house shape and registers the subgraph in the (copied) supergraph package', async () => {
    expect(generated.edited).toEqual(['packages/supergraph/src/index.ts', 'packages/supergraph/package.json']);
    const index = await readFile(join(workspace, 'packages/supergraph/src/index.ts'), 'utf8');
    expect(index).toContain(`import { ${NAME}Subgraph } from '@loyalty-graph/${NAME}';`);
    expect(index).toContain(`  ${NAME}Subgraph as unknown as SubgraphModule<ViewerContext>,\n];`);
    expect(JSON.parse(await readFile(join(workspace, 'packages/supergraph/package.json'), 'utf8')).dependencies).toHaveProperty(`@loyalty-graph/${NAME}`, 'workspace:*');
    const readme = await readFile(join(generated.dir, 'README.md'), 'utf8');
    expect(readme.split('\n').filter((line) => line.startsWith('## ')).map((line) => line.slice(3))).toEqual(README_HEADINGS);
    expect(generated.written).toContain(`subgraphs/${NAME}/src/generated/resolvers.ts`);
  });

  it('refuses to generate over an existing folder', async () => {
    const again = generateSubgraph({ root: workspace, name: NAME, port: PORT + 1, registered: [] });
    await expect(again).rejects.toThrow(`subgraphs/${NAME} already exists`);
  });

  it('type-checks and lints without a hand edit', async () => {
    await run(join(ROOT, 'node_modules/.bin/tsc'), ['--noEmit', '-p', join(workspace, 'tsconfig.json')]);
    await run(join(ROOT, 'node_modules/.bin/eslint'), ['--max-warnings', '0', '--config', join(ROOT, 'eslint.config.js'), 'subgraphs'], { cwd: workspace });
  }, 120_000);

  it('composes with the real subgraphs', () => {
    const all = [...SUBGRAPHS, module].map((m) => ({ name: m.name, typeDefs: m.typeDefs, url: defaultRoutingUrl(m) }));
    expect(composeSupergraph(all)).toContain(`type SampleItem`);
  });

  it('starts, resolves its entity through _entities in one SQL statement, answers its Query field (with its policy) and its operators’ field', async () => {
    sub = await startTestSubgraph(module);
    const programId = '00000000-0000-4000-8000-00000000000a';
    const rows = (await sub.db.query(`INSERT INTO sample_items (program_id, name) VALUES ($1, 'one'), ($1, 'two'), ($1, 'three') RETURNING id`, [programId])) as { id: string }[];
    const ids = rows.map((row) => row.id);

    const service = await sub.as(serviceViewer('test'));
    sub.statements.reset();
    const { _entities } = await service.data<{ _entities: ({ name: string; program: { id: string } } | null)[] }>(
      `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on SampleItem { name program { id } } } }`,
      { representations: [ids[2], ids[0], ids[1]].map((id) => ({ __typename: 'SampleItem', id })) },
    );
    expect(_entities).toEqual(['three', 'one', 'two'].map((name) => ({ name, program: { id: programId } })));
    expect(sub.statements.dataStatements()).toHaveLength(1);

    const agentOf = (program: string): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId: program, roles: ['AGENT'], subject: `agent-${program}` });
    const agent = await sub.as(agentOf(programId));
    expect(await agent.data(`query($id: ID!) { sampleItem(id: $id) { name } }`, { id: ids[0] })).toEqual({ sampleItem: { name: 'one' } });
    const stranger = await sub.as(agentOf('00000000-0000-4000-8000-00000000000b'));
    expect(errorCodes(await stranger.send(`query($id: ID!) { sampleItem(id: $id) { name } }`, { id: ids[0] }))).toEqual(['FORBIDDEN']);

    const operator: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId: null, roles: ['ADMIN'], subject: 'operator' };
    const { sampleOperations } = await (await sub.as(operator)).data<{ sampleOperations: unknown }>(
      `{ sampleOperations { subgraph jobs { name } outbox { head } consumers { name } deadLetters { id } } }`,
    );
    expect(sampleOperations).toEqual({ subgraph: NAME, jobs: [], outbox: null, consumers: [], deadLetters: [] });
  });
});
