import { badUserInput, currencyDigits, forbidden, formatMoneyAmount, isUuid } from '@loyalty-graph/shared';
import type { Cohort } from '../domain/breakage';
import type { ProgramResolvers } from '../generated/resolvers';
import { canReadProgramKpis } from '../domain/policy';
import { valuePoints } from '../domain/money';
import type { PointValue } from '../services/money';

/** Program as the gateway hands it over: its id and, for the money fields, members' point value (@requires). */
interface ProgramRef {
  id: string;
  pointValue?: PointValue;
}

/** The shared checks of every money field: staff of the program, a real id, the point value present. */
function checked(program: ProgramRef, viewer: Parameters<typeof canReadProgramKpis>[0]): void {
  if (!canReadProgramKpis(viewer, program.id)) throw forbidden('You can see only your own program');
  if (!isUuid(program.id)) throw badUserInput('The program id is not an id');
}

function pointValueOf(program: ProgramRef): PointValue {
  // Members gives it through @requires: without it the gateway's plan is wrong, not the caller.
  if (!program.pointValue) throw new Error('This field needs Program.pointValue (@requires)');
  return program.pointValue;
}

const ratio = (value: number, digits = 6) => value.toFixed(digits);

function range(from: Date, to: Date): void {
  if (to.getTime() <= from.getTime()) throw badUserInput('`to` must be after `from`', 'to');
}

/** Program.liability, breakageEstimate, deferredRevenue and programCosts (issue 12, money). */
export const ProgramMoney: Pick<Required<ProgramResolvers>, 'liability' | 'breakageEstimate' | 'deferredRevenue' | 'programCosts'> = {
  async liability(program, { asOf }, { viewer, services, clock }) {
    checked(program, viewer);
    return services.finance.liability(program.id, asOf ?? clock.now(), pointValueOf(program));
  },
  async breakageEstimate(program, { asOf }, { viewer, services, clock }) {
    checked(program, viewer);
    const at = asOf ?? clock.now();
    const estimate = await services.finance.breakage(program.id, at);
    return {
      asOf: at,
      method: 'CHAIN_LADDER_FIFO',
      ultimateRedemptionRate: estimate.ultimateRedemptionRate === null ? null : ratio(estimate.ultimateRedemptionRate),
      breakageRate: estimate.breakageRate === null ? null : ratio(estimate.breakageRate),
      developmentFactors: estimate.developmentFactors.map((f) => ratio(f)),
      cohorts: estimate.cohorts.map((c: Cohort) => ({
        month: c.month,
        age: c.age,
        pointsEarned: BigInt(c.earned),
        pointsRedeemed: BigInt(c.redeemed),
        pointsExpired: BigInt(c.expired),
        pointsOutstanding: BigInt(c.outstanding),
        cumulativeRedemptionRates: c.cumulativeRedeemed.map((r) => ratio(r / c.earned)),
        projectedUltimateRedeemed: ratio(c.ultimateRedeemed, 2),
      })),
    };
  },
  async deferredRevenue(program, { from, to }, { viewer, services }) {
    checked(program, viewer);
    range(from, to);
    const revenue = await services.finance.deferredRevenue(program.id, from, to, pointValueOf(program));
    return { ...revenue, expectedRedemptionRate: ratio(revenue.expectedRedemptionRate) };
  },
  async programCosts(program, { from, to }, { viewer, services }) {
    checked(program, viewer);
    range(from, to);
    const pointValue = pointValueOf(program);
    const [costs, issued] = await Promise.all([services.costs.between(program.id, from, to), services.finance.issued(program.id, from, to)]);
    const currency = costs.currency ?? pointValue.currency;
    return {
      from,
      to,
      pointsIssued: issued,
      pointsIssuedValue: { amount: valuePoints(issued, pointValue.amount, currencyDigits(pointValue.currency)), currency: pointValue.currency },
      fulfilmentCost: { amount: formatMoneyAmount(costs.fulfilmentCost, currency), currency },
      settlementNet: { amount: formatMoneyAmount(costs.settlementNet, currency), currency },
    };
  },
};
