/**
 * A ledger replica that only runs the purchase-import job, in its own process, against the
 * database given in LEDGER_DATABASE_URL: the fault tests start it, SIGKILL it mid-import, and start
 * another. CLOCK_OFFSET_MS moves its clock ahead (a replica arriving after a crashed one's chunk
 * lease ran out). Prints "processed <n>" after every run; exits when a run finds nothing to do and
 * EXIT_WHEN_IDLE is set.
 */
import { openDatabase } from '@loyalty-graph/shared/db';
import { snapshotDirectory } from '@loyalty-graph/shared/member-snapshots';
import { createServices } from '../../src/context';

const url = process.env['LEDGER_DATABASE_URL'];
if (!url) throw new Error('LEDGER_DATABASE_URL is required');
const offset = Number(process.env['CLOCK_OFFSET_MS'] ?? 0);
const clock = { now: () => new Date(Date.now() + offset) };
const db = await openDatabase({ url, entities: [], migrations: [], applicationName: 'ledger-import-worker' });
// Only members the projection holds: the fault tests name their members by id.
const directory = snapshotDirectory(db, async (ids) => ids.map(() => null));
const services = createServices(db, clock, directory, async () => {
  throw new Error('members is not reachable from this worker');
});
for (;;) {
  const processed = await services.imports.work(2_000);
  process.stdout.write(`processed ${processed}\n`);
  if (processed === 0 && process.env['EXIT_WHEN_IDLE']) break;
  if (processed === 0) await new Promise((resolve) => setTimeout(resolve, 100));
}
await db.destroy();
