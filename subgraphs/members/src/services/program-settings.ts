import { DomainError, forbidden, type Clock, type Viewer } from '@loyalty-graph/shared';
import type { DataSource, EntityManager } from 'typeorm';
import { canAdministerProgram } from '../domain/policy';
import { programSettingsColumns, type ProgramSettingsRow } from '../entities/program-settings';
import { NO_REFERRAL_BONUSES, validateReferralRules, type ReferralRules } from '../domain/referral';
import { DEFAULT_TIER_RULES, periodAt, validateTierRules, type TierRules } from '../domain/tier-qualification';

export interface ProgramSettings {
  programId: string;
  tiers: TierRules;
  referrals: ReferralRules;
  updatedAt: Date | null;
}

/** Unconfigured programs qualify by calendar year (periods anchored on 1 January). */
const DEFAULT_ANCHOR = new Date('2000-01-01T00:00:00Z');

type Queryable = Pick<EntityManager, 'query'>;

/** How a program's tiers qualify and what its referrals pay; one row per program, defaults until configured. */
export class ProgramSettingsService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async get(programId: string, q: Queryable = this.db): Promise<ProgramSettings> {
    return (await this.getMany([programId], q))[0]!;
  }

  /** In the order asked (a loader's batch). */
  async getMany(programIds: readonly string[], q: Queryable = this.db): Promise<ProgramSettings[]> {
    const rows = (await q.query(`SELECT ${programSettingsColumns} FROM program_settings s WHERE s.program_id = ANY($1::uuid[])`, [programIds])) as ProgramSettingsRow[];
    const byProgram = new Map(rows.map((row) => [row.programId, row]));
    return programIds.map((programId) => toSettings(programId, byProgram.get(programId)));
  }

  /**
   * A new qualification period (length or anchor) takes effect for the period in force: nobody is
   * judged at the end of a past period cut to the new length. Points are kept by time, so the
   * period in force already counts everything earned within it.
   */
  async configureTiers(viewer: Viewer, programId: string, input: Parameters<typeof validateTierRules>[0]): Promise<ProgramSettings> {
    const changes = validateTierRules(input);
    return this.update(
      viewer,
      programId,
      (current) => ({ ...current, tiers: { ...current.tiers, ...changes } }),
      async (tx, before, after) => {
        if (before.tiers.periodMonths === after.tiers.periodMonths && before.tiers.periodAnchor.getTime() === after.tiers.periodAnchor.getTime()) return;
        await tx.query(`UPDATE members SET tier_period_start = $2 WHERE program_id = $1`, [programId, periodAt(after.tiers, this.clock.now()).start]);
      },
    );
  }

  async configureReferrals(viewer: Viewer, programId: string, input: ReferralRules): Promise<ProgramSettings> {
    const referrals = validateReferralRules(input);
    return this.update(viewer, programId, (current) => ({ ...current, referrals }));
  }

  /** Read, change, write under the program's row lock, so two admins' edits do not lose each other. */
  private async update(
    viewer: Viewer,
    programId: string,
    change: (current: ProgramSettings) => ProgramSettings,
    then: (tx: EntityManager, before: ProgramSettings, after: ProgramSettings) => Promise<void> = async () => undefined,
  ): Promise<ProgramSettings> {
    if (!canAdministerProgram(viewer, programId)) throw forbidden('Only the program’s administrators configure it');
    return this.db.transaction(async (tx) => {
      const [program] = (await tx.query(`SELECT id FROM programs WHERE id = $1 FOR UPDATE`, [programId])) as unknown[];
      if (!program) throw new DomainError('PROGRAM_NOT_FOUND', 'No such program', 'programId');
      const before = await this.get(programId, tx);
      const next = change(before);
      const { tiers, referrals } = next;
      const now = this.clock.now();
      await tx.query(
        `INSERT INTO program_settings (program_id, period_months, period_anchor, downgrade, grace_days, manual_mode, referral_trigger, referrer_bonus, referee_bonus, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (program_id) DO UPDATE SET period_months = $2, period_anchor = $3, downgrade = $4, grace_days = $5, manual_mode = $6,
           referral_trigger = $7, referrer_bonus = $8, referee_bonus = $9, updated_at = $10`,
        [programId, tiers.periodMonths, tiers.periodAnchor, tiers.downgrade, tiers.graceDays, tiers.manualMode, referrals.trigger, referrals.referrerBonus, referrals.refereeBonus, now],
      );
      await then(tx, before, next);
      return { ...next, updatedAt: now };
    });
  }
}

/** A program_settings row (or its columns joined onto another query, all null when unconfigured) as settings. */
export function toSettings(programId: string, row: Omit<ProgramSettingsRow, 'programId'> | undefined): ProgramSettings {
  if (!row || row.periodMonths == null) return { programId, tiers: { ...DEFAULT_TIER_RULES, periodAnchor: DEFAULT_ANCHOR }, referrals: NO_REFERRAL_BONUSES, updatedAt: null };
  return {
    programId,
    tiers: { periodMonths: row.periodMonths, periodAnchor: row.periodAnchor, downgrade: row.downgrade, graceDays: row.graceDays, manualMode: row.manualMode },
    referrals: { trigger: row.referralTrigger, referrerBonus: row.referrerBonus, refereeBonus: row.refereeBonus },
    updatedAt: row.updatedAt,
  };
}
