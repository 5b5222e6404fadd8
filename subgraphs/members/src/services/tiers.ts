import type { Clock } from '@loyalty-graph/shared';
import type { ledgerEvents } from '@loyalty-graph/shared/contracts';
import type { ContractEvent } from '@loyalty-graph/shared/events';
import type { DataSource, EntityManager } from 'typeorm';
import {
  atGraceEnd,
  atPeriodEnd,
  onPointsChanged,
  periodAt,
  type LadderTier,
  type TierDecision,
} from '../domain/tier-qualification';
import { memberTierColumns, type MemberTierRow } from '../entities/member';
import { programSettingsColumns, type ProgramSettingsRow } from '../entities/program-settings';
import { ladderColumns } from '../entities/tier';
import { toSettings, type ProgramSettingsService } from './program-settings';
import type { ReferralService } from './referrals';
import { REASON_TEXT, recordTierChange } from './tier-changes';

/** The settings joined onto the member's row; the member's own program id is the key. */
const joinedSettingsColumns = programSettingsColumns.omit('programId');

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
  async onPointsAccrued(tx: EntityManager, event: ContractEvent<typeof ledgerEvents, 'PointsAccrued'>): Promise<void> {
    const accrued = event.payload;
    // The member (locked), the program's settings and its ladder in one round trip: this runs for every purchase.
    const [row] = (await tx.query(
      `SELECT ${memberTierColumns}, ${joinedSettingsColumns},
              (SELECT coalesce(json_agg(ladder), '[]') FROM (SELECT ${ladderColumns} FROM tiers t WHERE t.program_id = m.program_id) ladder) AS ladder
       FROM members m LEFT JOIN program_settings s ON s.program_id = m.program_id WHERE m.id = $1 FOR UPDATE OF m`,
      [accrued.memberId],
    )) as (MemberTierRow & Omit<ProgramSettingsRow, 'programId'> & { ladder: LadderTier[] })[];
    if (!row) throw new Error(`unknown member ${accrued.memberId}`);
    const member: MemberTierRow = row;
    const settings = toSettings(member.programId, row);
    const now = this.clock.now();
    const earnedAt = new Date(accrued.occurredAt);
    const current = periodAt(settings.tiers, now);
    const previous = periodAt(settings.tiers, new Date(current.start.getTime() - 1));
    // One statement: record the points at the purchase's time, and read the current and previous
    // periods' totals (the new row is not visible to the reads of the same statement, hence + $4).
    const [totals] = (await tx.query(
      `WITH added AS (INSERT INTO status_points (member_id, purchase_id, earned_at, points) VALUES ($1, $2, $3, $4))
       SELECT coalesce(sum(points) FILTER (WHERE earned_at >= $5), 0) + CASE WHEN $3 >= $5 AND $3 < $6 THEN $4 ELSE 0 END AS current,
              coalesce(sum(points) FILTER (WHERE earned_at < $5), 0) + CASE WHEN $3 >= $7 AND $3 < $5 THEN $4 ELSE 0 END AS previous
       FROM status_points WHERE member_id = $1 AND earned_at >= $7 AND earned_at < $6`,
      [member.id, accrued.purchaseId, earnedAt, accrued.statusPoints, current.start, current.end, previous.start],
    )) as { current: string; previous: string }[];
    // A purchase in the period in force moves tiers at once. One in the period just ended (it ran at
    // 23:59, or came in late) still counts for it: the status it earns lasts through this period, as
    // an upgrade made then would. Older purchases count in their own period only.
    const counts = earnedAt >= current.start && earnedAt < current.end ? Number(totals!.current) : earnedAt >= previous.start && earnedAt < previous.end ? Math.max(Number(totals!.previous), Number(totals!.current)) : null;
    if (counts !== null) await this.apply(tx, member, row.ladder, onPointsChanged(settings.tiers, row.ladder, member, counts, now), `${counts} status points in the qualification period`);
    await this.referrals.onPurchase(tx, member.id, settings);
  }

  /**
   * PointsReturned: the status points leave the period their purchase counted in, while that period
   * is still open for the member. Once it was closed (evaluated at its end), they are taken from the
   * period in force instead: the status already earned stays, but must be earned back.
   * Downgrades wait for the period end either way.
   */
  async onPointsReturned(tx: EntityManager, event: ContractEvent<typeof ledgerEvents, 'PointsReturned'>): Promise<void> {
    const returned = event.payload;
    const statusPoints = returned.statusFromPending + returned.statusFromPosted;
    if (statusPoints === 0) return;
    const member = await this.lock(tx, returned.memberId);
    const [purchase] = (await tx.query(`SELECT earned_at AS "earnedAt" FROM status_points WHERE purchase_id = $1 AND points > 0 ORDER BY id LIMIT 1`, [returned.purchaseId])) as {
      earnedAt: Date;
    }[];
    // A purchase this projection never saw accrue (accrued before members consumed events) counts as now.
    const at = purchase && purchase.earnedAt >= member.tierPeriodStart ? purchase.earnedAt : this.clock.now();
    await tx.query(`INSERT INTO status_points (member_id, purchase_id, earned_at, points) VALUES ($1, $2, $3, $4)`, [member.id, returned.purchaseId, at, -statusPoints]);
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
      // Keyset over the program's open memberships: each batch starts where the last ended, so a period
      // end over a million members reads each once. Members locked right now (their events, another
      // run) are left for the next run.
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const due = (await this.db.query(
          `SELECT id FROM members WHERE program_id = $1 AND status <> 'CLOSED' AND id > $3 AND tier_period_start < $2 ORDER BY id LIMIT $4`,
          [programId, current, after, JOB_BATCH],
        )) as { id: string }[];
        if (!due.length) break;
        for (const { id } of due) if (await this.closePeriodFor(id)) evaluated++;
        after = due.at(-1)!.id;
      }
    }
    const graces = (await this.db.query(`SELECT id FROM members WHERE downgrade_due_at <= $1 AND status <> 'CLOSED' ORDER BY downgrade_due_at LIMIT $2`, [
      this.clock.now(),
      JOB_BATCH * 10,
    ])) as { id: string }[];
    for (const { id } of graces) if (await this.endGraceFor(id)) evaluated++;
    return evaluated;
  }

  private async closePeriodFor(memberId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const member = await this.claim(tx, memberId, `FOR UPDATE SKIP LOCKED`);
      if (!member) return false;
      // Judged by the rules read now, under the member's lock: an admin changing the period since
      // the job listed this member moved their period start with it, and nothing has ended.
      const { tiers } = await this.settings.get(member.programId, tx);
      const current = periodAt(tiers, this.clock.now()).start;
      if (member.tierPeriodStart >= current) return false;
      const ended = periodAt(tiers, new Date(current.getTime() - 1));
      const endedPoints = await this.pointsIn(tx, member.id, ended);
      const currentPoints = await this.pointsIn(tx, member.id, periodAt(tiers, current));
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
      const current = periodAt(tiers, now);
      const endedPoints = await this.pointsIn(tx, member.id, periodAt(tiers, new Date(current.start.getTime() - 1)));
      const currentPoints = await this.pointsIn(tx, member.id, current);
      const ladder = await this.ladder(tx, member.programId);
      const decision = atGraceEnd(tiers, ladder, member, endedPoints, currentPoints, now);
      await this.apply(tx, member, ladder, decision, `grace ended with ${Math.max(endedPoints, currentPoints)} status points`);
      return decision.kind !== 'NONE';
    });
  }

  private async apply(tx: EntityManager, member: MemberTierRow, ladder: LadderTier[], decision: TierDecision, why: string): Promise<void> {
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
  private async lock(tx: EntityManager, memberId: string): Promise<MemberTierRow> {
    const member = await this.claim(tx, memberId, 'FOR UPDATE');
    if (!member) throw new Error(`unknown member ${memberId}`);
    return member;
  }

  /** The member's row, locked, when it meets the condition (a job's re-check under the lock). */
  private async claim(tx: EntityManager, memberId: string, condition: string, params: unknown[] = []): Promise<MemberTierRow | null> {
    const [row] = (await tx.query(`SELECT ${memberTierColumns} FROM members m WHERE m.id = $1 ${condition}`, [memberId, ...params])) as MemberTierRow[];
    return row ?? null;
  }

  private async pointsIn(q: Pick<EntityManager, 'query'>, memberId: string, period: { start: Date; end: Date }): Promise<number> {
    const [row] = (await q.query(`SELECT coalesce(sum(points), 0)::text AS points FROM status_points WHERE member_id = $1 AND earned_at >= $2 AND earned_at < $3`, [
      memberId,
      period.start,
      period.end,
    ])) as { points: string }[];
    return Number(row!.points);
  }

  private async ladder(q: Pick<EntityManager, 'query'>, programId: string): Promise<LadderTier[]> {
    return (await q.query(`SELECT ${ladderColumns} FROM tiers t WHERE t.program_id = $1`, [programId])) as LadderTier[];
  }
}
