import type { Clock } from '@loyalty-graph/shared';
import { emitEvents, EVENT_VERSIONS, type EventEnvelope, type LedgerEventPayloads, type MembersEventPayloads, type TierChangeReason } from '@loyalty-graph/shared/events';
import type { DataSource, EntityManager } from 'typeorm';
import {
  atGraceEnd,
  atPeriodEnd,
  onPointsChanged,
  periodAt,
  tierProgress,
  type LadderTier,
  type MemberTierState,
  type TierDecision,
  type TierProgress,
} from '../domain/tier-qualification';
import { toSettings, type ProgramSettingsService, type SettingsRow } from './program-settings';
import type { ReferralService } from './referrals';

interface LockedMember extends MemberTierState {
  id: string;
  programId: string;
  tierPeriodStart: Date;
}

const MEMBER_COLUMNS = `m.id, m.program_id AS "programId", m.tier_id AS "tierId", m.manual_tier_id AS "manualTierId", m.manual_until AS "manualUntil",
  m.downgrade_due_at AS "downgradeDueAt", m.tier_period_start AS "tierPeriodStart"`;

/** Members a job run takes per query; each is then evaluated in a transaction of its own. */
const JOB_BATCH = 500;

/**
 * Tiers that move by themselves: status points per member and qualification period, projected
 * from the ledger's events; an upgrade at once, a downgrade at the period end (after the grace),
 * every change in the tier history with its reason and announced as TierChanged.
 */
export class TierService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly settings: ProgramSettingsService,
    private readonly referrals: ReferralService,
  ) {}

  /** PointsAccrued: count the status points in the purchase's period; upgrade at once; maybe qualify a referral. */
  async onPointsAccrued(tx: EntityManager, event: EventEnvelope): Promise<void> {
    const accrued = event.payload as LedgerEventPayloads['PointsAccrued'];
    // The member (locked), the program's settings and its ladder in one round trip: this runs for every purchase.
    const [row] = (await tx.query(
      `SELECT ${MEMBER_COLUMNS}, s.period_months, s.period_anchor, s.downgrade, s.grace_days, s.manual_mode, s.referral_trigger, s.referrer_bonus, s.referee_bonus, s.updated_at,
              (SELECT coalesce(json_agg(json_build_object('id', t.id, 'rank', t.rank, 'qualifyingThreshold', t.qualifying_threshold)), '[]') FROM tiers t WHERE t.program_id = m.program_id) AS ladder
       FROM members m LEFT JOIN program_settings s ON s.program_id = m.program_id WHERE m.id = $1 FOR UPDATE OF m`,
      [accrued.memberId],
    )) as (LockedMember & SettingsRow & { ladder: LadderTier[] })[];
    if (!row) throw new Error(`unknown member ${accrued.memberId}`);
    const member: LockedMember = row;
    const settings = toSettings(member.programId, row);
    const period = periodAt(settings.tiers, new Date(accrued.occurredAt)).start;
    // One statement: remember the purchase's period (for a later return) and add its points there.
    const [added] = (await tx.query(
      `WITH remembered AS (INSERT INTO purchase_periods (purchase_id, member_id, period_start) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING)
       INSERT INTO member_status_points (member_id, period_start, points) VALUES ($2, $3, $4)
       ON CONFLICT (member_id, period_start) DO UPDATE SET points = member_status_points.points + EXCLUDED.points
       RETURNING points::text`,
      [accrued.purchaseId, member.id, period, accrued.statusPoints],
    )) as { points: string }[];
    const now = this.clock.now();
    // A purchase dated in an earlier period counts there; only the period in force moves tiers now.
    if (period.getTime() === periodAt(settings.tiers, now).start.getTime()) {
      const points = Number(added!.points);
      await this.apply(tx, member, row.ladder, onPointsChanged(settings.tiers, row.ladder, member, points, now), `${points} status points in the current period`);
    }
    await this.referrals.onPurchase(tx, member.id, settings);
  }

  /** PointsReturned: the status points leave the period the purchase counted in. Downgrades wait for the period end. */
  async onPointsReturned(tx: EntityManager, event: EventEnvelope): Promise<void> {
    const returned = event.payload as LedgerEventPayloads['PointsReturned'];
    const statusPoints = returned.statusFromPending + returned.statusFromPosted;
    if (statusPoints === 0) return;
    const member = await this.lock(tx, returned.memberId);
    const [known] = (await tx.query(`SELECT period_start AS "start" FROM purchase_periods WHERE purchase_id = $1`, [returned.purchaseId])) as { start: Date }[];
    // A purchase this projection never saw accrue (accrued before members consumed events) counts as now.
    const start = known?.start ?? periodAt((await this.settings.get(member.programId, tx)).tiers, this.clock.now()).start;
    await this.addPoints(tx, member.id, start, -statusPoints);
  }

  /**
   * The scheduled job: members whose period ended are evaluated once for it (down, scheduled for
   * after the grace, or kept), then due graces end. One transaction per member, rows claimed with
   * SKIP LOCKED and re-checked, so two runs at once never evaluate a member twice.
   */
  async closePeriods(): Promise<number> {
    let evaluated = 0;
    const programs = (await this.db.query(`SELECT id FROM programs WHERE status IN ('ACTIVE', 'SUSPENDED')`)) as { id: string }[];
    for (const { id: programId } of programs) {
      const { tiers } = await this.settings.get(programId);
      const current = periodAt(tiers, this.clock.now()).start;
      for (;;) {
        const due = (await this.db.query(
          `SELECT id FROM members WHERE program_id = $1 AND tier_period_start < $2 AND status <> 'CLOSED' ORDER BY id LIMIT $3`,
          [programId, current, JOB_BATCH],
        )) as { id: string }[];
        if (!due.length) break;
        let progressed = 0;
        for (const { id } of due) if (await this.closePeriodFor(id, current)) progressed++;
        evaluated += progressed;
        // The rest are locked by someone else right now (another run, or their events): next run.
        if (due.length < JOB_BATCH || progressed === 0) break;
      }
    }
    const graces = (await this.db.query(`SELECT id FROM members WHERE downgrade_due_at <= $1 AND status <> 'CLOSED' ORDER BY downgrade_due_at LIMIT $2`, [
      this.clock.now(),
      JOB_BATCH * 10,
    ])) as { id: string }[];
    for (const { id } of graces) if (await this.endGraceFor(id)) evaluated++;
    return evaluated;
  }

  async progress(member: { id: string; programId: string; tierId: string | null; manualTierId: string | null; manualUntil: Date | null; downgradeDueAt: Date | null }): Promise<TierProgress> {
    const { tiers } = await this.settings.get(member.programId);
    const now = this.clock.now();
    const points = await this.pointsIn(this.db.manager, member.id, periodAt(tiers, now).start);
    return tierProgress(tiers, await this.ladder(this.db.manager, member.programId), member, points, now);
  }

  private async closePeriodFor(memberId: string, current: Date): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const member = await this.claim(tx, memberId, `AND tier_period_start < $2 FOR UPDATE SKIP LOCKED`, [current]);
      if (!member) return false;
      const { tiers } = await this.settings.get(member.programId, tx);
      const ended = periodAt(tiers, new Date(current.getTime() - 1)).start;
      const endedPoints = await this.pointsIn(tx, member.id, ended);
      const currentPoints = await this.pointsIn(tx, member.id, current);
      // Points already earned in the new period count too: a member who re-qualified before this
      // run (it may run late) keeps the tier rather than losing it for a moment.
      const ladder = await this.ladder(tx, member.programId);
      const decision = atPeriodEnd(tiers, ladder, member, Math.max(endedPoints, currentPoints), currentPoints, this.clock.now());
      await this.apply(tx, member, ladder, decision, `${endedPoints} status points in the period that ended`);
      await tx.query(`UPDATE members SET tier_period_start = $2 WHERE id = $1`, [member.id, current]);
      return true;
    });
  }

  private async endGraceFor(memberId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const member = await this.claim(tx, memberId, `AND downgrade_due_at <= $2 FOR UPDATE SKIP LOCKED`, [this.clock.now()]);
      if (!member) return false;
      const { tiers } = await this.settings.get(member.programId, tx);
      const now = this.clock.now();
      const current = periodAt(tiers, now).start;
      const endedPoints = await this.pointsIn(tx, member.id, periodAt(tiers, new Date(current.getTime() - 1)).start);
      const currentPoints = await this.pointsIn(tx, member.id, current);
      const ladder = await this.ladder(tx, member.programId);
      const decision = atGraceEnd(tiers, ladder, member, endedPoints, currentPoints, now);
      await this.apply(tx, member, ladder, decision, `grace ended with ${Math.max(endedPoints, currentPoints)} status points`);
      return decision.kind !== 'NONE';
    });
  }

  private async apply(tx: EntityManager, member: LockedMember, ladder: LadderTier[], decision: TierDecision, why: string): Promise<void> {
    const now = this.clock.now();
    if (decision.kind === 'SCHEDULE_DOWNGRADE' || decision.kind === 'CANCEL_DOWNGRADE') {
      await tx.query(`UPDATE members SET downgrade_due_at = $2, updated_at = $3 WHERE id = $1`, [member.id, decision.kind === 'SCHEDULE_DOWNGRADE' ? decision.dueAt : null, now]);
      return;
    }
    if (decision.kind !== 'CHANGE' || decision.toTierId === member.tierId) return;
    await recordTierChange(tx, {
      programId: member.programId,
      memberId: member.id,
      fromTierId: member.tierId,
      toTierId: decision.toTierId,
      reason: decision.reason,
      text: `${REASON_TEXT[decision.reason]}: ${why}`,
      changedBy: null,
      at: now,
      ladder,
      updateMember: true,
    });
  }

  /** An event about a member this subgraph does not know is a bug somewhere: fail it, so it is dead-lettered and seen. */
  private async lock(tx: EntityManager, memberId: string): Promise<LockedMember> {
    const member = await this.claim(tx, memberId, 'FOR UPDATE');
    if (!member) throw new Error(`unknown member ${memberId}`);
    return member;
  }

  /** The member's row, locked, when it meets the condition (a job's re-check under the lock). */
  private async claim(tx: EntityManager, memberId: string, condition: string, params: unknown[] = []): Promise<LockedMember | null> {
    const [row] = (await tx.query(
      `SELECT ${MEMBER_COLUMNS} FROM members m WHERE m.id = $1 ${condition}`,
      [memberId, ...params],
    )) as LockedMember[];
    return row ?? null;
  }

  private async addPoints(tx: EntityManager, memberId: string, periodStart: Date, points: number): Promise<void> {
    await tx.query(
      `INSERT INTO member_status_points (member_id, period_start, points) VALUES ($1, $2, $3)
       ON CONFLICT (member_id, period_start) DO UPDATE SET points = member_status_points.points + EXCLUDED.points`,
      [memberId, periodStart, points],
    );
  }

  private async pointsIn(q: Pick<EntityManager, 'query'>, memberId: string, periodStart: Date): Promise<number> {
    const [row] = (await q.query(`SELECT points::text FROM member_status_points WHERE member_id = $1 AND period_start = $2`, [memberId, periodStart])) as { points: string }[];
    return Number(row?.points ?? 0);
  }

  private async ladder(q: Pick<EntityManager, 'query'>, programId: string): Promise<LadderTier[]> {
    return (await q.query(`SELECT id, rank, qualifying_threshold AS "qualifyingThreshold" FROM tiers WHERE program_id = $1`, [programId])) as LadderTier[];
  }
}

const REASON_TEXT: Record<TierChangeReason, string> = {
  QUALIFIED: 'Qualified',
  PERIOD_END: 'Period ended below the tier’s threshold',
  GRACE_ENDED: 'Grace period ended below the tier’s threshold',
  MANUAL: 'Set by an agent',
};

/**
 * Every tier change, automatic or manual: a history row and a TierChanged event, in the caller's
 * transaction. The ladder, when the caller has it at hand, saves reading the two tiers' ranks;
 * `updateMember` moves the member's tier (and clears a pending downgrade) in the same statement.
 */
export async function recordTierChange(
  tx: EntityManager,
  change: {
    programId: string;
    memberId: string;
    fromTierId: string | null;
    toTierId: string | null;
    reason: TierChangeReason;
    text: string;
    changedBy: string | null;
    at: Date;
    ladder?: LadderTier[];
    updateMember?: boolean;
  },
): Promise<void> {
  await tx.query(
    `WITH moved AS (UPDATE members SET tier_id = $3, downgrade_due_at = NULL, updated_at = $8 WHERE id = $1 AND $9::boolean)
     INSERT INTO tier_changes (member_id, from_tier_id, to_tier_id, reason, reason_code, source, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [change.memberId, change.fromTierId, change.toTierId, change.text, change.reason, change.reason === 'MANUAL' ? 'MANUAL' : 'AUTOMATIC', change.changedBy, change.at, change.updateMember ?? false],
  );
  const ranks = change.ladder ?? ((await tx.query(`SELECT id, rank FROM tiers WHERE id = ANY($1::uuid[])`, [[change.fromTierId, change.toTierId].filter(Boolean)])) as { id: string; rank: number }[]);
  const rank = (id: string | null) => ranks.find((t) => t.id === id)?.rank ?? -1;
  const payload: MembersEventPayloads['TierChanged'] = {
    programId: change.programId,
    memberId: change.memberId,
    fromTierId: change.fromTierId,
    toTierId: change.toTierId,
    direction: rank(change.toTierId) > rank(change.fromTierId) ? 'UP' : 'DOWN',
    reason: change.reason,
    changedAt: change.at.toISOString(),
  };
  await emitEvents(tx, [{ aggregateType: 'Member', aggregateId: change.memberId, type: 'TierChanged', version: EVENT_VERSIONS.TierChanged, payload }], change.at);
}
