import { randomBytes } from 'node:crypto';
import { DomainError, forbidden, InputError, isUuid, notFound, type Clock, type Viewer } from '@loyalty-graph/shared';
import { analyticsEvents, ledgerEvents, membersEvents } from '@loyalty-graph/shared/contracts';
import { idempotent } from '@loyalty-graph/shared/db';
import { consume, emit, perTransaction, type Consumption, type EmittedEvent } from '@loyalty-graph/shared/events';
import type { DataSource, EntityManager } from 'typeorm';
import { assignmentOf, checkHoldoutShare, inHoldout, isTreatment, validateExperiment, type ExperimentMetric, type Variant } from '../domain/experiments';
import { canManageExperiments, canReadExperiments } from '../domain/policy';
import { checkTargetSegment } from './segment-targets';

type Queryable = Pick<EntityManager, 'query'>;

export type ExperimentStatus = 'DRAFT' | 'RUNNING' | 'STOPPED' | 'COMPLETED';

export interface ExperimentRow {
  id: string;
  programId: string;
  name: string;
  hypothesis: string;
  segmentId: string | null;
  variants: Variant[];
  primaryMetric: ExperimentMetric;
  /** As stored: DRAFT, RUNNING or STOPPED (COMPLETED is RUNNING past its planned end, see statusAt). */
  storedStatus: 'DRAFT' | 'RUNNING' | 'STOPPED';
  startsAt: Date;
  plannedEndAt: Date;
  startedAt: Date | null;
  endsAt: Date | null;
  createdAt: Date;
}

export interface Holdout {
  programId: string;
  /** Percent, 0 to 20, as a decimal string. */
  share: string;
  salt: string;
  updatedAt: Date;
}

const COLUMNS = `e.id, e.program_id AS "programId", e.name, e.hypothesis, e.segment_id AS "segmentId", e.variants, e.primary_metric AS "primaryMetric",
  e.status AS "storedStatus", e.starts_at AS "startsAt", e.planned_end_at AS "plannedEndAt", e.started_at AS "startedAt", e.ends_at AS "endsAt", e.created_at AS "createdAt"`;

/** Assignments are written and emitted in chunks of this many: one statement per chunk, bounded memory. */
const CHUNK = 1000;

/** A running experiment past its planned end is COMPLETED: its treatment stopped at the horizon (the events said so). */
export function statusAt(experiment: ExperimentRow, now: Date): ExperimentStatus {
  if (experiment.storedStatus === 'RUNNING' && now >= experiment.plannedEndAt) return 'COMPLETED';
  return experiment.storedStatus;
}

export interface CreateExperimentInput {
  programId: string;
  idempotencyKey: string;
  name: string;
  hypothesis: string;
  segmentId?: string | null;
  variants: readonly { key: string; weight: number; earnMultiplier?: string | null; offerIds?: readonly string[] | null }[];
  startsAt: Date;
  plannedEndAt: Date;
  primaryMetric: ExperimentMetric;
}

/**
 * The program's holdout and its experiments: definitions, start and stop, and sticky assignment of
 * members to variants, each stored once and told to the others with ExperimentVariantAssigned.
 */
export class Experiments {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async configureHoldout(viewer: Viewer, input: { programId: string; share: string; idempotencyKey: string }): Promise<{ programId: string }> {
    if (!canManageExperiments(viewer, input.programId)) throw forbidden('Only the program’s administrators configure its holdout');
    checkHoldoutShare(input.share);
    const { idempotencyKey, ...request } = input;
    const { result } = await idempotent(
      this.db,
      { programId: input.programId, key: idempotencyKey, operation: 'configureHoldout', input: request },
      async (tx) => {
        const now = this.clock.now();
        // The salt is drawn once, on the first configuration; later changes keep it, so every
        // member keeps their hash and only the margin between the old and new share moves.
        await tx.query(
          `INSERT INTO program_holdouts (program_id, salt, share, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
           ON CONFLICT (program_id) DO UPDATE SET share = $3, updated_at = $4`,
          [input.programId, randomBytes(16).toString('hex'), input.share, now],
        );
        return { programId: input.programId };
      },
      this.clock,
    );
    return result;
  }

  async holdout(programId: string, q: Queryable = this.db): Promise<Holdout | null> {
    const [row] = (await q.query(`SELECT program_id AS "programId", share::text AS share, salt, updated_at AS "updatedAt" FROM program_holdouts WHERE program_id = $1`, [programId])) as Holdout[];
    return row ? { ...row, share: trimShare(row.share) } : null;
  }

  /** How many of the program's enrolled members the holdout holds now. */
  async holdoutMembers(holdout: Holdout): Promise<number> {
    const rows = (await this.db.query(`SELECT member_id AS "memberId" FROM member_state WHERE program_id = $1 AND enrolled_at IS NOT NULL`, [holdout.programId])) as { memberId: string }[];
    return rows.filter((r) => inHoldout(holdout.salt, r.memberId, Number(holdout.share))).length;
  }

  async create(viewer: Viewer, input: CreateExperimentInput): Promise<{ experimentId: string }> {
    if (!canManageExperiments(viewer, input.programId)) throw forbidden('Only the program’s administrators create experiments');
    const variants = validateExperiment(input);
    if (input.segmentId) await checkTargetSegment(this.db, input.programId, input.segmentId);
    const { idempotencyKey, ...request } = input;
    const { result } = await idempotent(
      this.db,
      { programId: input.programId, key: idempotencyKey, operation: 'createExperiment', input: request },
      async (tx) => {
        // Checked inside the idempotent block: a retry of a creation that succeeded returns it even
        // after its horizon; a new experiment whose horizon has passed could never start.
        if (input.plannedEndAt <= this.clock.now()) throw new DomainError('EXPERIMENT_HORIZON_PASSED', 'plannedEndAt has passed: the experiment could never start', 'plannedEndAt');
        const [row] = (await tx.query(
          `INSERT INTO experiments (program_id, name, hypothesis, segment_id, variants, primary_metric, status, starts_at, planned_end_at, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'DRAFT', $7, $8, $9, $10) RETURNING id`,
          [input.programId, input.name.trim(), input.hypothesis.trim(), input.segmentId ?? null, JSON.stringify(variants), input.primaryMetric, input.startsAt, input.plannedEndAt, viewer.subject, this.clock.now()],
        )) as { id: string }[];
        return { experimentId: row!.id };
      },
      this.clock,
    );
    return result;
  }

  async byId(id: string, q: Queryable = this.db): Promise<ExperimentRow | null> {
    const [row] = (await q.query(`SELECT ${COLUMNS} FROM experiments e WHERE e.id = $1`, [id])) as ExperimentRow[];
    return row ?? null;
  }

  async ofProgram(programId: string): Promise<ExperimentRow[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM experiments e WHERE e.program_id = $1 ORDER BY e.created_at DESC, e.id`, [programId])) as ExperimentRow[];
  }

  async assignedCount(experimentId: string): Promise<number> {
    const [row] = (await this.db.query(`SELECT count(*)::int AS n FROM experiment_assignments WHERE experiment_id = $1`, [experimentId])) as { n: number }[];
    return row!.n;
  }

  /** An experiment the viewer may read, or NOT_FOUND / FORBIDDEN. */
  async readable(viewer: Viewer, id: string): Promise<ExperimentRow> {
    const experiment = await this.byId(id);
    if (!experiment) throw notFound('Experiment');
    if (!canReadExperiments(viewer, experiment.programId)) throw forbidden('You can see only your own program’s experiments');
    return experiment;
  }

  /**
   * Starts a DRAFT experiment: the treatment starts at the later of startsAt and now, and every
   * eligible member known now is assigned in the same transaction (set-based, in chunks). Starting
   * a running experiment again changes nothing (natural idempotency: its status).
   */
  async start(viewer: Viewer, experimentId: string): Promise<{ experimentId: string }> {
    return this.db.transaction(async (tx) => {
      const experiment = await this.locked(tx, viewer, experimentId);
      const now = this.clock.now();
      if (experiment.storedStatus === 'RUNNING') return { experimentId };
      if (experiment.storedStatus === 'STOPPED') throw new DomainError('EXPERIMENT_STOPPED', 'A stopped experiment cannot start again; create a new one', 'experimentId');
      if (now >= experiment.plannedEndAt) throw new DomainError('EXPERIMENT_HORIZON_PASSED', 'Its plannedEndAt has passed; create a new one', 'experimentId');
      const startsAt = experiment.startsAt > now ? experiment.startsAt : now;
      await tx.query(`UPDATE experiments SET status = 'RUNNING', starts_at = $2, started_at = $3 WHERE id = $1`, [experimentId, startsAt, now]);
      const running = { ...experiment, storedStatus: 'RUNNING' as const, startsAt, startedAt: now };
      const eligible = (await tx.query(
        experiment.segmentId
          ? `SELECT member_id AS "memberId" FROM segment_members WHERE segment_id = $2 AND program_id = $1 ORDER BY member_id`
          : `SELECT member_id AS "memberId" FROM member_state WHERE program_id = $1 AND enrolled_at IS NOT NULL ORDER BY member_id`,
        experiment.segmentId ? [experiment.programId, experiment.segmentId] : [experiment.programId],
      )) as { memberId: string }[];
      const holdout = await this.holdout(experiment.programId, tx);
      for (let i = 0; i < eligible.length; i += CHUNK) await this.assign(tx, running, holdout, eligible.slice(i, i + CHUNK).map((r) => r.memberId), now);
      return { experimentId };
    });
  }

  /**
   * Stops a running experiment now (or at its horizon if that passed): every treated member's
   * assignment is told again with endsAt, so the ledger stops the multiplier and offers disappear.
   * Stopping a stopped experiment changes nothing.
   */
  async stop(viewer: Viewer, experimentId: string): Promise<{ experimentId: string }> {
    return this.db.transaction(async (tx) => {
      const experiment = await this.locked(tx, viewer, experimentId);
      if (experiment.storedStatus === 'STOPPED') return { experimentId };
      if (experiment.storedStatus === 'DRAFT') throw new DomainError('EXPERIMENT_NOT_STARTED', 'Only a running experiment can be stopped', 'experimentId');
      const now = this.clock.now();
      const endsAt = now < experiment.plannedEndAt ? now : experiment.plannedEndAt;
      await tx.query(`UPDATE experiments SET status = 'STOPPED', ends_at = $2 WHERE id = $1`, [experimentId, endsAt]);
      const stopped = { ...experiment, storedStatus: 'STOPPED' as const, endsAt };
      const treated = experiment.variants.filter(isTreatment).map((v) => v.key);
      const rows = (await tx.query(
        `SELECT member_id AS "memberId", variant_key AS "variantKey", holdout FROM experiment_assignments WHERE experiment_id = $1 AND NOT holdout AND variant_key = ANY($2::text[]) ORDER BY member_id`,
        [experimentId, treated],
      )) as { memberId: string; variantKey: string; holdout: boolean }[];
      for (let i = 0; i < rows.length; i += CHUNK) await emit(tx, analyticsEvents, rows.slice(i, i + CHUNK).map((r) => this.event(stopped, r)), now);
      return { experimentId };
    });
  }

  /**
   * Members who become eligible while an experiment runs (enrolled, or first seen by the Facts
   * consumer), assigned in the consumer's transaction. The experiments are read under the program's
   * experiments lock (lockExperiments): a start or stop running at the same moment either waits for
   * this transaction (and then sees the member) or finishes first (and this sees it RUNNING or
   * STOPPED), so no member is missed or treated late.
   */
  async assignNewlyEligible(tx: EntityManager, programId: string, memberId: string): Promise<void> {
    const now = this.clock.now();
    // Once per consumer transaction: the program's lock, held shared until the commit, keeps every
    // start and stop waiting, so what is read here stays true for the transaction's other events.
    const { experiments, holdout } = await perTransaction(tx, `analytics.experiments:${programId}`, async () => {
      await lockExperiments(tx, programId, 'shared');
      const rows = (await tx.query(`SELECT ${COLUMNS} FROM experiments e WHERE e.program_id = $1 AND e.status = 'RUNNING' ORDER BY e.id`, [programId])) as ExperimentRow[];
      return { experiments: rows, holdout: rows.length ? await this.holdout(programId, tx) : null };
    });
    const running = experiments.filter((e) => now < e.plannedEndAt);
    if (!running.length) return;
    for (const experiment of running) {
      const [eligible] = (await tx.query(
        experiment.segmentId
          ? `SELECT 1 FROM segment_members WHERE segment_id = $2 AND member_id = $1`
          : `SELECT 1 FROM member_state WHERE program_id = $2 AND member_id = $1 AND enrolled_at IS NOT NULL`,
        [memberId, experiment.segmentId ?? programId],
      )) as unknown[];
      if (eligible) await this.assign(tx, experiment, holdout, [memberId], now);
    }
  }

  /** Assignment follows members' enrolments and the ledger's first sight of them (PointsAccrued). */
  consumptions(): Consumption[] {
    return [
      consume(membersEvents, { MemberEnrolled: (tx, e) => this.assignNewlyEligible(tx, e.payload.programId, e.payload.memberId) }, {
        does: 'assigns a newly enrolled member to the variants of the program’s running experiments (ExperimentVariantAssigned)',
      }),
      consume(ledgerEvents, { PointsAccrued: (tx, e) => this.assignNewlyEligible(tx, e.payload.programId, e.payload.memberId) }, {
        does: 'assigns a member first seen purchasing to the running experiments they are eligible for',
      }),
    ];
  }

  /** Stores the assignments that are new (the primary key decides under races) and emits one event for each. */
  private async assign(tx: EntityManager, experiment: ExperimentRow, holdout: Holdout | null, memberIds: string[], now: Date): Promise<void> {
    const share = holdout ? Number(holdout.share) : 0;
    const assignments = memberIds.map((memberId) => ({ memberId, ...assignmentOf(experiment.id, memberId, experiment.variants, holdout !== null && inHoldout(holdout.salt, memberId, share)) }));
    const inserted = (await tx.query(
      `INSERT INTO experiment_assignments (experiment_id, member_id, program_id, variant_key, holdout, assigned_at)
       SELECT $1, m, $2, v, h, $3 FROM unnest($4::uuid[], $5::text[], $6::boolean[]) AS t(m, v, h)
       ON CONFLICT (experiment_id, member_id) DO NOTHING
       RETURNING member_id AS "memberId", variant_key AS "variantKey", holdout`,
      [experiment.id, experiment.programId, now, assignments.map((a) => a.memberId), assignments.map((a) => a.variantKey), assignments.map((a) => a.holdout)],
    )) as { memberId: string; variantKey: string; holdout: boolean }[];
    if (inserted.length) await emit(tx, analyticsEvents, inserted.map((r) => this.event(experiment, r)), now);
  }

  private event(experiment: ExperimentRow, a: { memberId: string; variantKey: string; holdout: boolean }): EmittedEvent<typeof analyticsEvents> {
    const variant = experiment.variants.find((v) => v.key === a.variantKey);
    // A holdout member is in control: no multiplier, no offers, whatever the hash said.
    const treated = !a.holdout && variant !== undefined;
    return {
      type: 'ExperimentVariantAssigned',
      payload: {
        programId: experiment.programId,
        memberId: a.memberId,
        experimentId: experiment.id,
        variantKey: a.variantKey,
        holdout: a.holdout,
        earnMultiplier: treated ? variant.earnMultiplier : null,
        offerIds: treated ? variant.offerIds : [],
        startsAt: experiment.startsAt.toISOString(),
        // The horizon is known from the start, so the ledger stops on time without another event.
        endsAt: (experiment.endsAt ?? experiment.plannedEndAt).toISOString(),
      },
    };
  }

  private async locked(tx: EntityManager, viewer: Viewer, experimentId: string): Promise<ExperimentRow> {
    if (!isUuid(experimentId)) throw new InputError('experimentId is not an id', 'experimentId');
    // Locked: a start and a stop at once apply one after the other.
    const [known] = (await tx.query(`SELECT program_id AS "programId" FROM experiments WHERE id = $1`, [experimentId])) as { programId: string }[];
    if (!known) throw notFound('Experiment');
    // The program's lock alone: consumer transactions assigning new members wait, or are waited for.
    await lockExperiments(tx, known.programId, 'exclusive');
    const [experiment] = (await tx.query(`SELECT ${COLUMNS} FROM experiments e WHERE e.id = $1 FOR UPDATE`, [experimentId])) as ExperimentRow[];
    if (!experiment) throw notFound('Experiment');
    if (!canManageExperiments(viewer, experiment.programId)) throw forbidden('Only the program’s administrators start and stop experiments');
    return experiment;
  }
}

/**
 * A program's experiments, locked for their status: start and stop take it exclusively; the
 * consumers' assignment of new members takes it shared until their commit. So a start either waits
 * for a consumer's transaction (and then sees its members) or finishes before it (and the consumer
 * sees the experiment RUNNING): no member is missed, none assigned after a stop.
 */
async function lockExperiments(tx: EntityManager, programId: string, mode: 'shared' | 'exclusive'): Promise<void> {
  await tx.query(`SELECT ${mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'}(hashtext('analytics.experiments'), hashtext($1))`, [programId]);
}

/** "5.00" → "5", "2.50" → "2.5": the share as the admin wrote it. */
function trimShare(share: string): string {
  return share.includes('.') ? share.replace(/\.?0+$/, '') : share;
}
