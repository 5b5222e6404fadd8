import { forbidden, InputError, isUuid, type Clock, type Viewer } from '@loyalty-graph/shared';
import { validateKey, withRetries } from '@loyalty-graph/shared/db';
import type { DataSource } from 'typeorm';
import { checkNotPast, checkSettingsInput, DEFAULT_SETTINGS, type SettingsVersion } from '../domain/kpi-definitions';
import { canConfigureAnalytics } from '../domain/policy';

export interface ConfigureAnalyticsInput {
  programId: string;
  idempotencyKey?: string | null;
  activeWindowDays?: number | null;
  effectiveFrom: Date;
}

/**
 * A program's analytics settings, as versions: each change is a new row (the next version),
 * never an update, so the version a bucket was computed with is always there to compute it again.
 */
export class AnalyticsSettings {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Every version, the default (1) first. */
  async versions(programId: string): Promise<SettingsVersion[]> {
    const rows = (await this.db.query(`SELECT version, active_window_days, effective_from FROM analytics_settings WHERE program_id = $1 ORDER BY version`, [programId])) as {
      version: number;
      active_window_days: number;
      effective_from: Date;
    }[];
    return [DEFAULT_SETTINGS, ...rows.map((r) => ({ version: r.version, activeWindowDays: r.active_window_days, effectiveFrom: new Date(r.effective_from) }))];
  }

  /**
   * Adds the next version. With an idempotencyKey a retry returns the version the first call made
   * (the same key with other values is BAD_USER_INPUT). Two changes at once get consecutive
   * versions: the program's versions are serialized by a transaction-scoped advisory lock.
   */
  async configure(viewer: Viewer, input: ConfigureAnalyticsInput): Promise<SettingsVersion> {
    if (!isUuid(input.programId)) throw new InputError('programId is not an id', 'programId');
    if (!canConfigureAnalytics(viewer, input.programId)) throw forbidden('Only the program’s administrators change its analytics settings');
    if (input.idempotencyKey != null) validateKey(input.idempotencyKey);
    // The window is checked now; "not in the past" only for a new version, so a retry that comes
    // after effectiveFrom has passed still gets the version its first attempt made.
    const change = checkSettingsInput(input);
    return withRetries(() =>
      this.db.transaction(async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('analytics_settings:' || $1, 0))`, [input.programId]);
        if (input.idempotencyKey != null) {
          const [previous] = (await tx.query(`SELECT version, active_window_days, effective_from FROM analytics_settings WHERE program_id = $1 AND idempotency_key = $2`, [
            input.programId,
            input.idempotencyKey,
          ])) as { version: number; active_window_days: number; effective_from: Date }[];
          if (previous) {
            if (previous.active_window_days !== change.activeWindowDays || new Date(previous.effective_from).getTime() !== change.effectiveFrom.getTime()) {
              throw new InputError(`idempotencyKey ${input.idempotencyKey} was already used for a different change`, 'idempotencyKey');
            }
            return { version: previous.version, activeWindowDays: previous.active_window_days, effectiveFrom: new Date(previous.effective_from) };
          }
        }
        checkNotPast(change.effectiveFrom, this.clock.now());
        const [row] = (await tx.query(
          `INSERT INTO analytics_settings (program_id, version, active_window_days, effective_from, idempotency_key, created_by, created_at)
           SELECT $1, coalesce(max(version), 1) + 1, $2, $3, $4, $5, $6 FROM analytics_settings WHERE program_id = $1
           RETURNING version`,
          [input.programId, change.activeWindowDays, change.effectiveFrom, input.idempotencyKey ?? null, viewer.subject, this.clock.now()],
        )) as { version: number }[];
        return { version: row!.version, ...change };
      }),
    );
  }
}
