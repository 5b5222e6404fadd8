import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { committedSupergraph, composeSupergraph, routeSupergraph, SUBGRAPHS, SUPERGRAPH_PATH } from '@loyalty-graph/supergraph';
import { composeCommand } from './compose';
import { ROOT } from './lib/services';

/** Every subgraph at a production address (one https without a port, the others http with theirs). */
const PRODUCTION_URLS: Record<string, string> = Object.fromEntries(
  SUBGRAPHS.map((m) => [m.name, m.name === 'ledger' ? 'https://ledger.internal/graphql' : `http://${m.name}.internal:${m.defaultPort}/graphql`]),
);
const PRODUCTION = Object.entries(PRODUCTION_URLS).map(([name, url]) => `${name}=${url}`);
const EXCEPT_MEMBERS = PRODUCTION.filter((e) => !e.startsWith('members='));
const urlArgs = (entries: string[]) => entries.flatMap((e) => ['--url', e]);
const routingUrls = (sdl: string) => Object.fromEntries([...sdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g)].map((m) => [m[1], m[2]]));
const scratch = mkdtempSync(join(tmpdir(), 'compose-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('pnpm compose', () => {
  it('without options rewrites the committed supergraph with 127.0.0.1 ports', () => {
    const { sdl, out } = composeCommand([], ROOT);
    expect(out).toBe(fileURLToPath(SUPERGRAPH_PATH));
    expect(routingUrls(sdl)).toEqual(Object.fromEntries(SUBGRAPHS.map((m) => [m.name, `http://127.0.0.1:${m.defaultPort}/graphql`])));
  });

  it('with --url composes the same schema routed to the given URLs, to stdout unless --out is given', () => {
    const { sdl, out } = composeCommand(urlArgs(PRODUCTION), ROOT);
    expect(out).toBeNull();
    expect(routingUrls(sdl)).toEqual(PRODUCTION_URLS);
    // Only the routing differs from the committed file.
    expect(sdl.replace(/url: "[^"]*"/g, '')).toBe(committedSupergraph().replace(/url: "[^"]*"/g, ''));
    expect(composeCommand([...urlArgs(PRODUCTION), '--out', 'deploy/supergraph.graphql'], '/srv/app').out).toBe('/srv/app/deploy/supergraph.graphql');
  });

  it('refuses to write routing URLs into the committed supergraph', () => {
    expect(() => composeCommand([...urlArgs(PRODUCTION), '--out', 'supergraph.graphql'], ROOT)).toThrow(/committed/);
  });

  it('refuses a missing subgraph, an unknown one, a duplicate and a URL that is not http(s)', () => {
    expect(() => composeCommand(urlArgs(PRODUCTION.filter((e) => !e.startsWith('ledger='))), ROOT)).toThrow(/no URL for ledger/);
    expect(() => composeCommand(urlArgs([...PRODUCTION, 'catalogue=http://x/graphql']), ROOT)).toThrow(/"catalogue" is not a subgraph/);
    expect(() => composeCommand(urlArgs([...PRODUCTION, PRODUCTION[0]!]), ROOT)).toThrow(/"members" is given twice/);
    expect(() => composeCommand(urlArgs(['members=members:4001', ...EXCEPT_MEMBERS]), ROOT)).toThrow(/not an absolute http\(s\) URL/);
    expect(() => composeCommand(urlArgs(['members', ...EXCEPT_MEMBERS]), ROOT)).toThrow(/not <subgraph>=<url>/);
    expect(() => composeCommand(['--port', '1'], ROOT)).toThrow();
  });

  it('runs from the command line: writes --out and leaves the committed file alone', async () => {
    const before = committedSupergraph();
    const out = join(scratch, 'prod.graphql');
    await promisify(execFile)(join(ROOT, 'node_modules/.bin/tsx'), ['scripts/compose.ts', ...urlArgs(PRODUCTION), '--out', out], { cwd: ROOT });
    expect(routingUrls(readFileSync(out, 'utf8')).members).toBe('http://members.internal:4001/graphql');
    const { stdout } = await promisify(execFile)(join(ROOT, 'node_modules/.bin/tsx'), ['scripts/compose.ts', ...urlArgs(PRODUCTION)], { cwd: ROOT });
    expect(stdout).toBe(readFileSync(out, 'utf8'));
    expect(committedSupergraph()).toBe(before);
    // Two tsx processes composing five subgraphs: well over the default 30 s beside other test files on 2 cores.
  }, 120_000);
});

describe('routeSupergraph', () => {
  it('rewrites the committed supergraph exactly as composing with those URLs would', () => {
    const urls: Record<string, string> = Object.fromEntries(SUBGRAPHS.map((m, i) => [m.name, `http://10.0.0.${5 + i}:${m.defaultPort}/graphql`]));
    expect(routeSupergraph(committedSupergraph(), urls)).toBe(composeSupergraph(SUBGRAPHS.map((m) => ({ name: m.name, typeDefs: m.typeDefs, url: urls[m.name]! }))));
  });

  it('refuses a subgraph the supergraph does not have', () => {
    expect(() => routeSupergraph(committedSupergraph(), { nope: 'http://x/graphql' })).toThrow(/no subgraph nope/);
  });
});
