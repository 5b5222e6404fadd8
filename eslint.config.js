import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tseslint from 'typescript-eslint';

/**
 * Layers, enforced here so the build fails when they return:
 *  - no import cycle inside the shared packages (a cycle makes load order and layering guesswork);
 *  - nothing under packages/ imports a subgraph or the gateway, except the supergraph list and
 *    the testing package's whole-supergraph entry (packages serve every subgraph; they must not
 *    depend on one).
 */
const SUBGRAPH_OR_GATEWAY = [
  {
    group: ['@loyalty-graph/*', '!@loyalty-graph/shared', '!@loyalty-graph/shared/*', '!@loyalty-graph/testing', '!@loyalty-graph/testing/*'],
    message: 'packages/ must not depend on a subgraph, the gateway or the supergraph list (only packages/supergraph and @loyalty-graph/testing/supergraph may).',
  },
  { group: ['**/subgraphs/**', '**/gateway/**'], message: 'packages/ must not import a subgraph or the gateway.' },
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/generated/**', '.pgdata/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Leftover debug output does not belong in services; scripts print on purpose.
      'no-console': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['packages/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['packages/**/*.ts'],
    ignores: ['packages/supergraph/src/index.ts', 'packages/testing/src/supergraph.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: SUBGRAPH_OR_GATEWAY }] },
  },
  {
    // The rest of the testing package serves any one subgraph: it must not pull in the whole supergraph.
    files: ['packages/testing/src/**/*.ts'],
    ignores: ['packages/testing/src/supergraph.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...SUBGRAPH_OR_GATEWAY, { group: ['./supergraph'], message: 'Only the whole-supergraph entry imports ./supergraph.' }] }] },
  },
  {
    files: ['scripts/**', 'bench/**'],
    rules: { 'no-console': 'off' },
  },
);
