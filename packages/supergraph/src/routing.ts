import type { ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';

/**
 * Routing URLs: where a gateway (ours, Hive Gateway, Apollo Router) sends each subgraph's share
 * of an operation. The committed supergraph routes to 127.0.0.1 ports; a deployment composes its
 * own (`pnpm compose --url members=… --url ledger=…`) or rewrites the committed one.
 */

/**
 * Checks a deployment's routing URLs against the subgraph list: every subgraph named exactly
 * once, each an absolute http(s) URL. All subgraphs are required on purpose: one left out would
 * silently route to 127.0.0.1 in production.
 */
export function checkRoutingUrls(modules: Pick<SubgraphModule<ViewerContext>, 'name'>[], entries: string[]): Record<string, string> {
  const known = modules.map((m) => m.name);
  const urls: Record<string, string> = {};
  const problems: string[] = [];
  const named = new Set<string>();
  for (const entry of entries) {
    const at = entry.indexOf('=');
    const name = at > 0 ? entry.slice(0, at) : '';
    const url = at > 0 ? entry.slice(at + 1) : '';
    if (name) named.add(name);
    if (!name || !url) problems.push(`"${entry}" is not <subgraph>=<url>`);
    else if (!known.includes(name)) problems.push(`"${name}" is not a subgraph (known: ${known.join(', ')})`);
    else if (name in urls) problems.push(`"${name}" is given twice`);
    else if (!isHttpUrl(url)) problems.push(`"${url}" (${name}) is not an absolute http(s) URL`);
    else urls[name] = url;
  }
  const missing = known.filter((name) => !named.has(name));
  if (missing.length) problems.push(`no URL for ${missing.join(', ')} (every subgraph needs one)`);
  if (problems.length) throw new Error(`Routing URLs refused:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return urls;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** `MEMBERS @join__graph(name: "members", url: "http://…")`, as @apollo/composition prints it. */
const JOIN_GRAPH = /@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g;

/**
 * Rewrites the routing URLs of an already composed supergraph (e.g. the committed one) and
 * nothing else, so the result is byte for byte what composing with those URLs gives. Throws when
 * a named subgraph is not in the supergraph.
 */
export function routeSupergraph(supergraphSdl: string, urls: Record<string, string>): string {
  const seen = new Set<string>();
  const routed = supergraphSdl.replace(JOIN_GRAPH, (whole, name: string) => {
    const url = urls[name];
    if (url === undefined) return whole;
    seen.add(name);
    return `@join__graph(name: ${JSON.stringify(name)}, url: ${JSON.stringify(url)})`;
  });
  const absent = Object.keys(urls).filter((name) => !seen.has(name));
  if (absent.length) throw new Error(`The supergraph has no subgraph ${absent.join(', ')}`);
  return routed;
}
