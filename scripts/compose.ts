/**
 * `pnpm compose`: composes the subgraphs' schemas into supergraph.graphql with
 * @apollo/composition. The file is committed; production gateways (or Apollo Router / Hive
 * Gateway) load it, and a test fails when it is stale.
 *
 * `pnpm compose --url members=http://members.internal:4001/graphql --url ledger=… [--out FILE]`
 * composes with a deployment's own routing URLs (every subgraph needs one) and writes FILE, or
 * stdout without --out (`pnpm -s compose …`, so pnpm's own banner stays out of the output). It never writes the committed supergraph.graphql: that file keeps the
 * 127.0.0.1 ports the tests, `pnpm dev` and the staleness check rely on.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkRoutingUrls, composeSupergraph, defaultRoutingUrl, SUBGRAPHS, SUPERGRAPH_PATH } from '@loyalty-graph/supergraph';

/** What one `pnpm compose` invocation writes where; pure, so the rules are unit tested. */
export function composeCommand(args: string[], cwd: string): { sdl: string; out: string | null } {
  const { values } = parseArgs({ args, options: { url: { type: 'string', multiple: true }, out: { type: 'string' } }, strict: true, allowPositionals: false });
  const committed = fileURLToPath(SUPERGRAPH_PATH);
  if (!values.url) return { sdl: composeSupergraph(), out: values.out ? resolve(cwd, values.out) : committed };
  const urls = checkRoutingUrls(SUBGRAPHS, values.url);
  const out = values.out ? resolve(cwd, values.out) : null;
  if (out === committed) throw new Error(`Refusing to write your routing URLs into the committed ${committed}: choose another --out`);
  const sdl = composeSupergraph(SUBGRAPHS.map((m) => ({ name: m.name, typeDefs: m.typeDefs, url: urls[m.name] ?? defaultRoutingUrl(m) })));
  return { sdl, out };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    // pnpm runs scripts from the root; INIT_CWD is where the caller typed the command.
    const { sdl, out } = composeCommand(process.argv.slice(2), process.env['INIT_CWD'] ?? process.cwd());
    if (out) {
      writeFileSync(out, sdl);
      console.error(`wrote ${out}`);
    } else {
      process.stdout.write(sdl);
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
