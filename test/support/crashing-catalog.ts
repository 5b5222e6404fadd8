/**
 * The catalog as a real process that kills itself (SIGKILL: no cleanup, no finally, no flush) when
 * the reward-order saga reaches CRASH_AT. Started by test/reward-order-faults.test.ts on the same
 * database as the test's catalog, which then recovers what this one left behind.
 *
 *   DATABASE_URL           the test catalog's own database (already migrated)
 *   INTERNAL_TOKEN_SECRET  the supergraph's
 *   SUBGRAPH_URLS          name=url,… of members and the ledger
 *   CLOCK_AT               the test clock's time (ISO): both catalogs agree on leases and expiry
 *   CRASH_AT               a SagaPoint
 *
 * Prints `{"url": …}` on one line once it listens.
 */
import { createCatalogSubgraph } from '@loyalty-graph/catalog';
import { createLogger, ManualClock, parseServiceList } from '@loyalty-graph/shared';
import { openDatabase } from '@loyalty-graph/shared/db';
import { httpEventTransport, launchSubgraph } from '@loyalty-graph/shared/subgraph';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const crashAt = env('CRASH_AT');
const internalSecret = env('INTERNAL_TOKEN_SECRET');
const module = createCatalogSubgraph({
  failpoint: (point) => {
    if (point === crashAt) process.kill(process.pid, 'SIGKILL');
  },
});
const db = await openDatabase({ url: env('DATABASE_URL'), entities: module.database.entities, migrations: module.database.migrations, applicationName: 'crashing-catalog' });
const peers = Object.fromEntries(parseServiceList(process.env['SUBGRAPH_URLS'] ?? '').map(({ name, url }) => [name, url]));
const { server } = await launchSubgraph(
  module,
  { db, clock: new ManualClock(new Date(env('CLOCK_AT'))), logger: createLogger('catalog', 'silent'), internalSecret, introspection: false, peers, events: httpEventTransport(peers, internalSecret) },
  { port: 0, background: false },
);
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
