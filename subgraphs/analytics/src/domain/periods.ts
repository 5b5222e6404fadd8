/** The calendar periods KPIs are bucketed by; every bucket is in UTC. */
export type Period = 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';

/** More buckets than this in one request is refused (BAD_USER_INPUT): a year of days fits, a century of weeks does not. */
export const MAX_BUCKETS = 400;

/**
 * The start of the bucket holding `at` (UTC): midnight; Monday for weeks (ISO 8601, like
 * PostgreSQL's date_trunc('week')); the 1st of January, April, July or October for quarters.
 */
export function bucketStart(period: Period, at: Date): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const d = at.getUTCDate();
  switch (period) {
    case 'DAY':
      return new Date(Date.UTC(y, m, d));
    case 'WEEK': {
      // getUTCDay: Sunday 0 … Saturday 6; days since Monday: (day + 6) % 7.
      const sinceMonday = (at.getUTCDay() + 6) % 7;
      return new Date(Date.UTC(y, m, d - sinceMonday));
    }
    case 'MONTH':
      return new Date(Date.UTC(y, m, 1));
    case 'QUARTER':
      return new Date(Date.UTC(y, m - (m % 3), 1));
    case 'YEAR':
      return new Date(Date.UTC(y, 0, 1));
  }
}

/** The start of the bucket after the one starting at `start`. */
export function nextBucket(period: Period, start: Date): Date {
  const y = start.getUTCFullYear();
  const m = start.getUTCMonth();
  const d = start.getUTCDate();
  switch (period) {
    case 'DAY':
      return new Date(Date.UTC(y, m, d + 1));
    case 'WEEK':
      return new Date(Date.UTC(y, m, d + 7));
    case 'MONTH':
      return new Date(Date.UTC(y, m + 1, 1));
    case 'QUARTER':
      return new Date(Date.UTC(y, m + 3, 1));
    case 'YEAR':
      return new Date(Date.UTC(y + 1, 0, 1));
  }
}

export interface Bucket {
  start: Date;
  /** Exclusive. */
  end: Date;
}

export type BucketsResult = { ok: true; buckets: Bucket[] } | { ok: false; message: string };

/**
 * The buckets that cover [from, to): from the bucket holding `from` to the one holding the last
 * instant before `to`. Whole buckets, so a KPI of a week is the same whichever day the range starts on.
 */
export function bucketsBetween(period: Period, from: Date, to: Date): BucketsResult {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return { ok: false, message: 'from and to must be instants' };
  if (to.getTime() <= from.getTime()) return { ok: false, message: 'to must be after from' };
  const buckets: Bucket[] = [];
  for (let start = bucketStart(period, from); start.getTime() < to.getTime(); start = nextBucket(period, start)) {
    if (buckets.length === MAX_BUCKETS) return { ok: false, message: `at most ${MAX_BUCKETS} ${period.toLowerCase()} buckets per request` };
    buckets.push({ start, end: nextBucket(period, start) });
  }
  return { ok: true, buckets };
}
