import { readFileSync } from 'node:fs';
import { Kind, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { MAX_PAGE_SIZE } from '@loyalty-graph/shared';
import { MAX_IDENTIFIERS } from './identifiers';
import { LIMITS } from './limits';

/**
 * Every limit a caller can hit is written in the schema next to the field it limits: change a
 * bound without changing the docs and this fails.
 */
const shown = (n: number) => n.toLocaleString('en-US');
const inputs = new Map<string, string>();
const firstArgs: [string, string, boolean][] = [];
/** Fields only internal services may call (a reconciliation reads whole histories): their own page size, still documented. */
const servicesOnly = (field: { directives?: readonly { name: { value: string }; arguments?: readonly { value: unknown }[] }[] }) =>
  field.directives?.some((d) => d.name.value === 'access' && JSON.stringify(d.arguments?.map((a) => a.value)).match(/"value":"SERVICE"/) && !JSON.stringify(d.arguments).match(/"value":"(ADMIN|AGENT|MEMBER|PARTNER|ANALYST|FULFILMENT)"/)) ??
  false;
for (const file of ['../../schema.graphql', '../../../ledger/schema.graphql']) {
  for (const definition of parse(readFileSync(new URL(file, import.meta.url), 'utf8')).definitions) {
    if (definition.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION && file.startsWith('../../schema')) {
      for (const field of definition.fields ?? []) inputs.set(`${definition.name.value}.${field.name.value}`, field.description?.value ?? '');
    }
    if (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) {
      for (const field of definition.fields ?? []) {
        const first = field.arguments?.find((a) => a.name.value === 'first');
        if (first) firstArgs.push([`${definition.name.value}.${field.name.value}`, first.description?.value ?? '', servicesOnly(field)]);
      }
    }
  }
}

describe('the members schema documents its limits', () => {
  it.each([
    ['CreateProgramInput.pointValue', [shown(LIMITS.pointValue), '8 decimals']],
    ['CreateTierInput.qualifyingThreshold', [shown(LIMITS.qualifyingThreshold)]],
    ['UpdateTierInput.qualifyingThreshold', [shown(LIMITS.qualifyingThreshold)]],
    ['AssignMemberTierInput.until', [shown(LIMITS.dateRangeDays), 'in the future']],
    ['EnrollMemberInput.identifiers', [`1 to ${MAX_IDENTIFIERS}`]],
  ])('%s says %j', (field, limits) => {
    const description = inputs.get(field);
    expect(description, `${field} is not an input field of the schema`).toBeDefined();
    for (const limit of limits) expect(description).toContain(limit);
  });

  it('gives the page size range on every paginated field of both subgraphs', () => {
    expect(firstArgs.length).toBeGreaterThanOrEqual(5);
    for (const [field, description, internal] of firstArgs) {
      if (internal) expect(description, field).toMatch(/1 to [\d,]+/);
      else expect(description, field).toContain(`1 to ${MAX_PAGE_SIZE}`);
    }
    expect(firstArgs.filter(([, , internal]) => !internal).length).toBeGreaterThanOrEqual(5);
  });
});
