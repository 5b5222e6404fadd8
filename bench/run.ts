/**
 * `pnpm bench [scenario…]`: runs benchmark scenarios and writes their figures as JSON to
 * bench/results/<scenario>.json. Ratios are measured side by side in one run (this machine is
 * shared and noisy), alternating the compared targets in rounds.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../scripts/lib/services';
import { analyticsScenario } from './analytics';
import { catalogScenario } from './catalog';
import { eventsScenario } from './events';
import { gatewayScenario } from './gateway';
import { hiveTargets } from './hive';
import { ledgerScenario } from './ledger';
import { membersScenario } from './members';
import { partnersScenario } from './partners';
import { webhooksScenario } from './webhooks';

const SCENARIOS: Record<string, () => Promise<Record<string, unknown>>> = {
  members: membersScenario,
  ledger: ledgerScenario,
  events: eventsScenario,
  gateway: () => gatewayScenario(hiveTargets),
  catalog: catalogScenario,
  partners: partnersScenario,
  webhooks: webhooksScenario,
  analytics: analyticsScenario,
};

async function main(): Promise<void> {
  const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = requested.length ? requested : Object.keys(SCENARIOS);
  for (const name of names) {
    const run = SCENARIOS[name];
    if (!run) throw new Error(`Unknown scenario ${name}; choose from ${Object.keys(SCENARIOS).join(', ')}`);
    console.log(`\n== ${name}`);
    const result = { scenario: name, at: new Date().toISOString(), machine: machineInfo(), ...(await run()) };
    // Runs on the NATS transport keep their own figures beside the default transport's.
    const file = join(ROOT, 'bench/results', `${name}${process.env['EVENT_TRANSPORT'] === 'nats' ? '-nats' : ''}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify(result, null, 2));
    console.log(`wrote ${file}`);
  }
}

function machineInfo() {
  return { node: process.version, cpus: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30) };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
