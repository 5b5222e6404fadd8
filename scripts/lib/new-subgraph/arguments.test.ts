import { describe, expect, it } from 'vitest';
import { parseArguments, takenIn, UsageError } from './arguments';

const taken = takenIn(
  [
    { name: 'members', defaultPort: 4001 },
    { name: 'ledger', defaultPort: 4002 },
  ],
  ['shared', 'testing', 'supergraph'],
);

function problems(args: string[]): string {
  try {
    parseArguments(args, taken);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(args)}`);
}

describe('pnpm new:subgraph arguments', () => {
  it('accepts a free lower-case name and a free port', () => {
    expect(parseArguments(['catalog', '4003'], taken)).toEqual({ name: 'catalog', port: 4003 });
    expect(parseArguments(['analytics', '65535'], taken)).toEqual({ name: 'analytics', port: 65535 });
    expect(parseArguments(['ab', '1024'], taken)).toEqual({ name: 'ab', port: 1024 });
  });

  it('wants exactly a name and a port, and shows the usage', () => {
    expect(problems([])).toMatch(/got 0 argument\(s\)[\s\S]*Usage: pnpm new:subgraph <name> <port>/);
    expect(problems(['catalog'])).toMatch(/got 1 argument/);
    expect(problems(['catalog', '4003', 'extra'])).toMatch(/got 3 argument/);
  });

  it('refuses names that are not 2 to 30 lower-case letters', () => {
    for (const name of ['Catalog', 'my-catalog', 'catalog2', 'my_catalog', 'c', 'é', '', 'a'.repeat(31)]) {
      expect(problems([name, '4003'])).toContain(`The name must be 2 to 30 lower-case letters (a-z), e.g. catalog; got "${name}".`);
    }
  });

  it('refuses names already taken, saying by what', () => {
    expect(problems(['members', '4003'])).toContain('The name "members" is taken by the members subgraph.');
    expect(problems(['gateway', '4003'])).toContain('The name "gateway" is taken by the gateway.');
    expect(problems(['shared', '4003'])).toContain('The name "shared" is taken by the workspace package @loyalty-graph/shared.');
  });

  it('refuses ports that are not whole numbers from 1024 to 65535', () => {
    for (const port of ['80', '1023', '65536', '70000', '-4003', '4003.5', '4e3', '0x0fa3', 'abc', '']) {
      expect(problems(['catalog', port])).toContain(`The port must be a whole number from 1024 to 65535; got "${port}".`);
    }
  });

  it('refuses ports used by a subgraph or the gateway, saying by what', () => {
    expect(problems(['catalog', '4002'])).toContain('Port 4002 is used by the ledger subgraph.');
    expect(problems(['catalog', '4000'])).toContain('Port 4000 is used by the gateway.');
  });

  it('reports every problem at once', () => {
    expect(problems(['Members', '80']).split('\n')).toEqual([
      'The name must be 2 to 30 lower-case letters (a-z), e.g. catalog; got "Members".',
      'The port must be a whole number from 1024 to 65535; got "80".',
      'Usage: pnpm new:subgraph <name> <port>   e.g. pnpm new:subgraph catalog 4003',
    ]);
  });
});
