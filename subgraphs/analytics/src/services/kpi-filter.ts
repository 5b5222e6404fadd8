import { InputError, isUuid } from '@loyalty-graph/shared';

/**
 * Who and what a KPI counts (KpiFilter). Every condition is on the fact itself, at the time it
 * happened, except the segment (members in it now):
 * - tierId: the member's tier at the fact's instant (their latest ENROLLED entry tier or
 *   TIER_CHANGED at or before it), not their tier today, so a promotion does not move history; a
 *   return or a posting takes its purchase's instant, so it follows the purchase it belongs to
 *   (pending of a tier never goes negative because the member moved up before the posting);
 * - partnerId: point facts funded by that partner (a posting: its purchase's partner); member facts
 *   of members who enrolled through that partner;
 * - channel: the purchase's channel (a return or posting: its purchase's); facts with no purchase
 *   (bonuses, redemptions, expiries…) have no channel and are left out; enrolment KPIs ignore it;
 * - segmentId: members in segment_members now.
 */
export interface KpiFilter {
  tierId?: string | null;
  partnerId?: string | null;
  channel?: string | null;
  segmentId?: string | null;
}

/** Refuses ids that are not UUIDs and an empty channel (BAD_USER_INPUT names the field). */
export function checkFilter(filter: KpiFilter | null | undefined): KpiFilter {
  if (!filter) return {};
  for (const field of ['tierId', 'partnerId', 'segmentId'] as const) {
    const value = filter[field];
    if (value != null && !isUuid(value)) throw new InputError(`filter.${field} is not an id`, `filter.${field}`);
  }
  if (filter.channel != null && !/^[A-Z_]{1,40}$/.test(filter.channel)) throw new InputError('filter.channel must be a channel name such as STORE or ONLINE', 'filter.channel');
  return filter;
}

/** Collects positional parameters while SQL is assembled. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The member's tier at `at` (a SQL expression), from their ENROLLED/TIER_CHANGED history; a change wins over an enrolment at the same instant. */
const tierAt = (alias: string, at: string) =>
  `(SELECT t.to_tier_id FROM member_facts t WHERE t.program_id = ${alias}.program_id AND t.member_id = ${alias}.member_id AND t.kind IN ('ENROLLED', 'TIER_CHANGED') AND t.occurred_at <= ${at} ORDER BY t.occurred_at DESC, (t.kind = 'TIER_CHANGED') DESC LIMIT 1)`;

const inSegment = (alias: string, segment: string) => `${alias}.member_id IN (SELECT s.member_id FROM segment_members s WHERE s.segment_id = ${segment} AND s.program_id = ${alias}.program_id)`;

/**
 * A column of a point fact's purchase (its accrual), for a fact that is not the accrual itself. A
 * scalar subquery inside CASE runs only for those rows (an OR with EXISTS made PostgreSQL check
 * every row's purchase: seconds on a million facts).
 */
const purchaseColumn = (alias: string, column: string, when: string) =>
  `CASE WHEN ${when} THEN (SELECT a.${column} FROM point_facts a WHERE a.program_id = ${alias}.program_id AND a.kind = 'ACCRUED' AND a.purchase_id = ${alias}.purchase_id LIMIT 1) END`;

/** Conditions (" AND …", or "") on the point_facts row `alias`. */
export function pointConditions(alias: string, filter: KpiFilter, params: Params): string {
  const parts: string[] = [];
  if (filter.tierId) {
    const purchasedAt = `(SELECT a.occurred_at FROM point_facts a WHERE ${alias}.kind <> 'ACCRUED' AND a.program_id = ${alias}.program_id AND a.kind = 'ACCRUED' AND a.purchase_id = ${alias}.purchase_id LIMIT 1)`;
    parts.push(`${tierAt(alias, `coalesce(${purchasedAt}, ${alias}.occurred_at)`)} = ${params.add(filter.tierId)}`);
  }
  if (filter.partnerId) {
    const p = params.add(filter.partnerId);
    parts.push(`coalesce(${alias}.partner_id, ${purchaseColumn(alias, 'partner_id', `${alias}.kind = 'POSTED'`)}) = ${p}`);
  }
  if (filter.channel) {
    const c = params.add(filter.channel);
    parts.push(`coalesce(CASE WHEN ${alias}.kind = 'ACCRUED' THEN ${alias}.channel END, ${purchaseColumn(alias, 'channel', `${alias}.kind <> 'ACCRUED' AND ${alias}.purchase_id IS NOT NULL`)}) = ${c}`);
  }
  if (filter.segmentId) parts.push(inSegment(alias, params.add(filter.segmentId)));
  return parts.map((p) => ` AND ${p}`).join('');
}

/** Conditions (" AND …", or "") on the member_facts row `alias`; the channel does not apply to members. */
export function memberConditions(alias: string, filter: KpiFilter, params: Params): string {
  const parts: string[] = [];
  if (filter.tierId) parts.push(`${tierAt(alias, `${alias}.occurred_at`)} = ${params.add(filter.tierId)}`);
  if (filter.partnerId) {
    const p = params.add(filter.partnerId);
    parts.push(
      `(${alias}.kind = 'ENROLLED' AND ${alias}.partner_id = ${p} OR ${alias}.kind <> 'ENROLLED' AND EXISTS (SELECT 1 FROM member_state ms WHERE ms.program_id = ${alias}.program_id AND ms.member_id = ${alias}.member_id AND ms.enrolled_through_partner_id = ${p}))`,
    );
  }
  if (filter.segmentId) parts.push(inSegment(alias, params.add(filter.segmentId)));
  return parts.map((p) => ` AND ${p}`).join('');
}

/**
 * Conditions (" AND …", or "") on a row `alias` of the rollups per dimension (point_days_by,
 * purchase_days_by; member_days_by without the channel): the dimensions were resolved with the
 * definitions above when each fact arrived (kpi-dimensions.ts). Not for a segment.
 */
export function dayConditions(alias: string, filter: KpiFilter, params: Params, withChannel = true): string {
  const parts: string[] = [];
  if (filter.tierId) parts.push(`${alias}.tier_id = ${params.add(filter.tierId)}`);
  if (filter.partnerId) parts.push(`${alias}.partner_id = ${params.add(filter.partnerId)}`);
  if (filter.channel && withChannel) parts.push(`${alias}.channel = ${params.add(filter.channel)}`);
  return parts.map((p) => ` AND ${p}`).join('');
}
