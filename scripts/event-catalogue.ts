/**
 * Writes the event catalogue into docs/events.md (`pnpm codegen`), or fails when it is stale
 * (`--check`, in `pnpm codegen:check`, part of `pnpm test`). What it writes: `lib/event-catalogue.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withCatalogue } from './lib/event-catalogue';
import { ROOT } from './lib/services';

const path = join(ROOT, 'docs/events.md');
const current = readFileSync(path, 'utf8');
const generated = withCatalogue(current);
if (process.argv.includes('--check')) {
  if (generated !== current) {
    console.error('docs/events.md: the event catalogue is stale; run `pnpm codegen`');
    process.exit(1);
  }
} else if (generated !== current) {
  writeFileSync(path, generated);
  console.log('wrote docs/events.md');
}
