import { badUserInput, forbidden, isUuid, rethrowInput } from '@loyalty-graph/shared';
import type { ProgramKpiBucketResolvers, ProgramResolvers } from '../generated/resolvers';
import { KPI_NAMES, kpiDefinition } from '../domain/kpi-definitions';
import { basket, frequency, redemptionRate, referralConversion, retentionRate } from '../domain/kpi-values';
import { averagePerPurchase } from '../domain/kpis';
import { canReadProgramKpis } from '../domain/policy';
import { checkFilter } from '../services/kpi-filter';

/** The program's KPIs are its ADMIN and ANALYST staff's; an operator's malformed id is their mistake, not a database error. */
function checkReader(viewer: Parameters<typeof canReadProgramKpis>[0], programId: string): void {
  if (!canReadProgramKpis(viewer, programId)) throw forbidden('You can see only your own program');
  if (!isUuid(programId)) throw badUserInput('The program id is not an id');
}

export const Program: ProgramResolvers = {
  __resolveReference: (ref) => ref,
  async kpis(program, { period, from, to, filter }, { viewer, services }) {
    checkReader(viewer, program.id);
    return rethrowInput(() => services.kpis.buckets(program.id, period, from, to, checkFilter(filter)));
  },
  async analyticsSettings(program, _args, { viewer, services }) {
    checkReader(viewer, program.id);
    return services.analyticsSettings.versions(program.id);
  },
  async kpiDefinitions(program, _args, { viewer, services }) {
    checkReader(viewer, program.id);
    const versions = await services.analyticsSettings.versions(program.id);
    return versions.flatMap((settings) =>
      KPI_NAMES.map((kpi) => ({ kpi, version: settings.version, effectiveFrom: settings.effectiveFrom, activeWindowDays: settings.activeWindowDays, definition: kpiDefinition(kpi, settings) })),
    );
  },
  async cohortRetention(program, { from, to, months, filter }, { viewer, services, clock }) {
    checkReader(viewer, program.id);
    return rethrowInput(() => services.cohorts.retention(program.id, from, to, months, checkFilter(filter), clock.now()));
  },
  async successCriteria(program, { from, to }, { viewer, services }) {
    checkReader(viewer, program.id);
    return rethrowInput(() => services.successCriteria.readout(program.id, from, to, services.kpis));
  },
};

/** The derived figures: the formulas are in domain/kpi-values.ts and domain/kpi-formulas.ts. */
export const ProgramKpiBucket: ProgramKpiBucketResolvers = {
  averagePointsPerPurchase: (bucket) => averagePerPurchase(bucket.accruedPoints, bucket.purchases),
  active: async (bucket) => (await bucket.activity()).active,
  churned: async (bucket) => (await bucket.activity()).churned,
  retentionRate: async (bucket) => retentionRate(await bucket.activity()),
  purchaseFrequency: async (bucket) => frequency({ purchases: bucket.purchases, active: (await bucket.activity()).active }),
  averageBasket: (bucket) => basket(bucket),
  redemptionRate: (bucket) => redemptionRate(bucket),
  referralConversion: (bucket) => referralConversion(bucket),
};
