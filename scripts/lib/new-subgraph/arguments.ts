/**
 * The arguments of `pnpm new:subgraph <name> <port>`, checked before anything is written. Every
 * problem is reported at once, so one correction is enough.
 */

/** Names and ports already in use, each with what uses it (for the error message). */
export interface Taken {
  names: Map<string, string>;
  ports: Map<number, string>;
}

/** A problem with the command line: the CLI prints it and exits with code 2, having written nothing. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = 'Usage: pnpm new:subgraph <name> <port>   e.g. pnpm new:subgraph catalog 4003';

/** The gateway listens on 4000 (ARCHITECTURE.md); a subgraph there could never start beside it. */
const GATEWAY_PORT = 4000;

/**
 * What is taken in a workspace: the registered subgraphs' names and ports, the gateway's, and the
 * names of the other workspace packages (a subgraph becomes `@loyalty-graph/<name>` too).
 */
export function takenIn(subgraphs: { name: string; defaultPort: number }[], workspacePackages: string[]): Taken {
  const names = new Map<string, string>([['gateway', 'the gateway']]);
  for (const name of workspacePackages) names.set(name, `the workspace package @loyalty-graph/${name}`);
  const ports = new Map<number, string>([[GATEWAY_PORT, 'the gateway']]);
  for (const { name, defaultPort } of subgraphs) {
    names.set(name, `the ${name} subgraph`);
    ports.set(defaultPort, `the ${name} subgraph`);
  }
  return { names, ports };
}

/** Checks `<name> <port>`; throws a UsageError naming every problem. */
export function parseArguments(args: readonly string[], taken: Taken): { name: string; port: number } {
  if (args.length !== 2) throw new UsageError(`Expected a name and a port, got ${args.length} argument(s).\n${USAGE}`);
  const [name, portText] = args as [string, string];
  const problems: string[] = [];

  // Lower-case letters only: the name is also a package name, a database name, a table prefix
  // and the start of GraphQL field names (`<name>Operations`), and must be valid in all of them.
  if (!/^[a-z]{2,30}$/.test(name)) problems.push(`The name must be 2 to 30 lower-case letters (a-z), e.g. catalog; got "${name}".`);
  else if (taken.names.has(name)) problems.push(`The name "${name}" is taken by ${taken.names.get(name)}.`);

  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!Number.isInteger(port) || port < 1024 || port > 65535) problems.push(`The port must be a whole number from 1024 to 65535; got "${portText}".`);
  else if (taken.ports.has(port)) problems.push(`Port ${port} is used by ${taken.ports.get(port)}.`);

  if (problems.length) throw new UsageError(`${problems.join('\n')}\n${USAGE}`);
  return { name, port };
}
