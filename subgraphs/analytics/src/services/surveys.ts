import { badUserInput, conflict, DomainError, forbidden, InputError, isUuid, notFound, type Clock, type Viewer } from '@loyalty-graph/shared';
import { requestHash, validateKey, withRetries } from '@loyalty-graph/shared/db';
import type { DataSource, EntityManager } from 'typeorm';
import { npsSummary, responseRate, roundTo } from '../domain/nps';
import { canActForMember, canManageSurveys, canReadSurveyResults } from '../domain/policy';
import { checkAnswers, checkSurveyDefinition, type QuestionKind, type SurveyQuestion } from '../domain/surveys';
import { checkTargetSegment } from './segment-targets';

/** A survey as the schema's Survey type reads it (status is computed against the clock). */
export interface SurveyRow {
  id: string;
  programId: string;
  title: string;
  segmentId: string | null;
  questions: SurveyQuestion[];
  opensAt: Date;
  closesAt: Date;
  closedAt: Date | null;
  audienceSize: number | null;
}

/** A member as another subgraph's reference: only the id. */
export interface MemberRef {
  id: string;
}

/** NpsResult's figures; definitions in schema.graphql (NpsResult). */
export interface NpsResultRow {
  audience: number;
  respondents: number;
  responseRate: number | null;
  scored: number;
  promoters: number;
  passives: number;
  detractors: number;
  nps: number | null;
  standardError: number | null;
  confidenceLow: number | null;
  confidenceHigh: number | null;
  smallSample: boolean;
  profilingConsentOnly: boolean;
}

export interface CreateSurveyRequest {
  programId: string;
  idempotencyKey: string;
  title: string;
  segmentId?: string | null;
  questions: readonly { key: string; kind: QuestionKind; prompt: string; required: boolean }[];
  opensAt: Date;
  closesAt: Date;
}

const SURVEY_COLUMNS = `s.id, s.program_id AS "programId", s.title, s.segment_id AS "segmentId", s.questions, s.opens_at AS "opensAt",
  s.closes_at AS "closesAt", s.closed_at AS "closedAt", s.audience_size AS "audienceSize"`;

/** A member's consents include PROFILING on some channel ('EMAIL:PROFILING', 'SMS:PROFILING', …). */
const GRANTED_PROFILING = `EXISTS (SELECT 1 FROM unnest(ms.consents) AS c WHERE c LIKE '%:PROFILING')`;
const MAX_NPS_RANGE_DAYS = 3660;

type Query = Pick<DataSource | EntityManager, 'query'>;

/** InputError (a caller's malformed input) as BAD_USER_INPUT, naming the field. */
function input<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof InputError) throw badUserInput(error.message, error.field);
    throw error;
  }
}

/** The survey's segment checked (segment-targets.ts); createSurvey has no payload, so an archived one is BAD_USER_INPUT. */
async function targetSegment(q: Query, programId: string, segmentId: string): Promise<void> {
  if (!isUuid(segmentId)) throw badUserInput('segmentId is not an id', 'segmentId');
  try {
    await checkTargetSegment(q, programId, segmentId);
  } catch (error) {
    if (error instanceof DomainError) throw badUserInput(error.message, 'segmentId');
    throw error;
  }
}

/**
 * Surveys: creating and closing them, fixing each one's audience when it opens, taking each
 * member's answers once, and NPS over the answers. The rules are in domain/surveys.ts and
 * domain/nps.ts; this is the SQL around them.
 */
export class Surveys {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async create(viewer: Viewer, request: CreateSurveyRequest): Promise<SurveyRow> {
    const { idempotencyKey, ...rest } = request;
    if (!canManageSurveys(viewer, request.programId)) throw forbidden('Only the program’s administrators create its surveys');
    input(() => validateKey(idempotencyKey));
    const now = this.clock.now();
    const survey = input(() => checkSurveyDefinition(request, now));
    if (request.segmentId) await targetSegment(this.db, request.programId, request.segmentId);
    const hash = requestHash('createSurvey', rest);
    // The key is a natural key of the survey (program, key): a retry or a concurrent duplicate
    // waits on the unique index and then finds the survey the first request made.
    const [created] = (await this.db.query(
      `INSERT INTO surveys (program_id, idempotency_key, request_hash, title, segment_id, questions, opens_at, closes_at, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (program_id, idempotency_key) DO NOTHING RETURNING id`,
      [request.programId, idempotencyKey, hash, survey.title, request.segmentId ?? null, JSON.stringify(survey.questions), survey.opensAt, survey.closesAt, viewer.subject ?? 'unknown', now],
    )) as { id: string }[];
    let id = created?.id;
    if (!id) {
      const [previous] = (await this.db.query(`SELECT id, request_hash FROM surveys WHERE program_id = $1 AND idempotency_key = $2`, [request.programId, idempotencyKey])) as {
        id: string;
        request_hash: string;
      }[];
      if (!previous || previous.request_hash !== hash) throw conflict(`idempotencyKey ${idempotencyKey} was already used for a different survey`);
      id = previous.id;
    }
    await this.fixAudience(id);
    return (await this.byId(id))!;
  }

  async close(viewer: Viewer, surveyId: string): Promise<SurveyRow> {
    const survey = await this.byId(surveyId);
    if (!survey) throw notFound('Survey');
    if (!canManageSurveys(viewer, survey.programId)) throw forbidden('Only the program’s administrators close its surveys');
    // Asked while open: its audience is who was asked, so fix it before answers stop.
    await this.fixAudience(surveyId);
    // Only an open or scheduled survey gets a closing time: one already past closesAt stays as it ended.
    await this.db.query(`UPDATE surveys SET closed_at = $2 WHERE id = $1 AND closed_at IS NULL AND closes_at > $2`, [surveyId, this.clock.now()]);
    return (await this.byId(surveyId))!;
  }

  async byId(surveyId: string): Promise<SurveyRow | null> {
    if (!isUuid(surveyId)) return null;
    const [row] = (await this.db.query(`SELECT ${SURVEY_COLUMNS} FROM surveys s WHERE s.id = $1`, [surveyId])) as SurveyRow[];
    return row ?? null;
  }

  /** A survey for its program's ADMIN and ANALYST staff; NOT_FOUND when there is none. */
  async readable(viewer: Viewer, surveyId: string): Promise<SurveyRow> {
    const survey = await this.byId(surveyId);
    if (!survey) throw notFound('Survey');
    if (!canReadSurveyResults(viewer, survey.programId)) throw forbidden('You can see only your own program’s surveys');
    await this.fixAudience(survey.id);
    return (await this.byId(survey.id))!;
  }

  /** The program's surveys, newest opening first (100 at most). */
  async ofProgram(programId: string): Promise<SurveyRow[]> {
    await this.fixDueAudiences(programId);
    return (await this.db.query(`SELECT ${SURVEY_COLUMNS} FROM surveys s WHERE s.program_id = $1 ORDER BY s.opens_at DESC, s.id LIMIT 100`, [programId])) as SurveyRow[];
  }

  /**
   * Fixes a survey's audience once it has opened: its segment's members (or every member of the
   * program) who are ACTIVE now, with their tier, in one INSERT … SELECT. Under the survey's row
   * lock, so two requests (or replicas) fixing it at once insert the audience once. Nothing
   * happens before opensAt, after it was fixed, or for a survey closed before it ever opened.
   */
  async fixAudience(surveyId: string): Promise<void> {
    const now = this.clock.now();
    await withRetries(() =>
      this.db.transaction(async (tx) => {
        const [survey] = (await tx.query(
          `SELECT program_id AS "programId", segment_id AS "segmentId" FROM surveys
            WHERE id = $1 AND audience_fixed_at IS NULL AND opens_at <= $2 AND (closed_at IS NULL OR closed_at >= opens_at)
            FOR UPDATE`,
          [surveyId, now],
        )) as { programId: string; segmentId: string | null }[];
        if (!survey) return;
        const inserted = (await tx.query(
          survey.segmentId === null
            ? `INSERT INTO survey_recipients (survey_id, program_id, member_id, tier_id)
               SELECT $1, ms.program_id, ms.member_id, ms.tier_id FROM member_state ms
                WHERE ms.program_id = $2 AND ms.status = 'ACTIVE'
               ON CONFLICT DO NOTHING RETURNING member_id`
            : `INSERT INTO survey_recipients (survey_id, program_id, member_id, tier_id)
               SELECT $1, ms.program_id, ms.member_id, ms.tier_id FROM segment_members sm
                 JOIN member_state ms ON ms.program_id = sm.program_id AND ms.member_id = sm.member_id
                WHERE sm.segment_id = $3 AND sm.program_id = $2 AND ms.status = 'ACTIVE'
               ON CONFLICT DO NOTHING RETURNING member_id`,
          survey.segmentId === null ? [surveyId, survey.programId] : [surveyId, survey.programId, survey.segmentId],
        )) as unknown[];
        await tx.query(`UPDATE surveys SET audience_fixed_at = $2, audience_size = $3 WHERE id = $1`, [surveyId, now, inserted.length]);
      }),
    );
  }

  /** Fixes the audience of every survey of the program that has opened and has none yet. */
  async fixDueAudiences(programId?: string): Promise<number> {
    const due = (await this.db.query(
      `SELECT id FROM surveys WHERE audience_fixed_at IS NULL AND opens_at <= $1 AND (closed_at IS NULL OR closed_at >= opens_at) ${programId ? 'AND program_id = $2' : ''} ORDER BY opens_at LIMIT 500`,
      programId ? [this.clock.now(), programId] : [this.clock.now()],
    )) as { id: string }[];
    for (const { id } of due) await this.fixAudience(id);
    return due.length;
  }

  /**
   * The surveys a member may answer now: open, the member among the recipients, no response yet.
   * Empty for a member analytics has not heard of (no member_state row: no program to check).
   */
  async forMember(viewer: Viewer, memberId: string): Promise<SurveyRow[]> {
    if (!isUuid(memberId)) return [];
    // The viewer's program narrows the lookup to the primary key; operators (no program) look in every program.
    const [member] = (await this.db.query(`SELECT program_id AS "programId" FROM member_state WHERE member_id = $1 AND ($2::uuid IS NULL OR program_id = $2)`, [
      memberId,
      viewer.programId,
    ])) as { programId: string }[];
    if (!member) return [];
    if (!canActForMember(viewer, { id: memberId, programId: member.programId })) throw forbidden('You can see only your own surveys, or your program’s members’');
    await this.fixDueAudiences(member.programId);
    return (await this.db.query(
      `SELECT ${SURVEY_COLUMNS} FROM surveys s
         JOIN survey_recipients r ON r.survey_id = s.id AND r.member_id = $2
        WHERE s.program_id = $1 AND s.opens_at <= $3 AND s.closes_at > $3 AND s.closed_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM survey_responses a WHERE a.survey_id = s.id AND a.member_id = $2)
        ORDER BY s.closes_at, s.id`,
      [member.programId, memberId, this.clock.now()],
    )) as SurveyRow[];
  }

  /**
   * Stores a member's answers once. The primary key (survey, member) decides between concurrent
   * submits: the second INSERT waits for the first to commit, then inserts nothing → CONFLICT.
   */
  async answer(
    viewer: Viewer,
    request: { surveyId: string; memberId?: string | null; answers: readonly { key: string; score?: number | null; text?: string | null }[] },
  ): Promise<{ surveyId: string; memberId: string; answeredAt: Date }> {
    const memberId = request.memberId ?? (viewer.kind === 'MEMBER' ? viewer.memberId : null);
    if (!memberId) throw badUserInput('memberId is required when answering on a member’s behalf', 'memberId');
    const survey = await this.byId(request.surveyId);
    if (!survey) throw notFound('Survey');
    if (!canActForMember(viewer, { id: memberId, programId: survey.programId })) throw forbidden('You can answer only for yourself, or for your program’s members');
    const now = this.clock.now();
    if (survey.closedAt !== null || now >= survey.closesAt) throw badUserInput('The survey is closed: it takes no more answers', 'surveyId');
    if (now < survey.opensAt) throw badUserInput(`The survey is not open yet: it opens at ${survey.opensAt.toISOString()}`, 'surveyId');
    const checked = input(() => checkAnswers(survey.questions, request.answers));
    await this.fixAudience(survey.id);
    const [recipient] = (await this.db.query(`SELECT 1 FROM survey_recipients WHERE survey_id = $1 AND member_id = $2`, [survey.id, memberId])) as unknown[];
    if (!recipient) throw forbidden('The member is not among the members this survey was sent to');
    const inserted = (await this.db.query(
      `INSERT INTO survey_responses (survey_id, member_id, program_id, nps_score, answers, answered_by, answered_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (survey_id, member_id) DO NOTHING RETURNING answered_at`,
      [survey.id, memberId, survey.programId, checked.npsScore, JSON.stringify(checked.answers), viewer.subject ?? 'unknown', now],
    )) as { answered_at: Date }[];
    if (inserted.length === 0) throw conflict('The member has already answered this survey; an answer cannot be changed or sent twice');
    return { surveyId: survey.id, memberId, answeredAt: inserted[0]!.answered_at };
  }

  /** A survey's responses and NPS, every respondent counted (not a breakdown by profile). */
  async results(surveyId: string): Promise<NpsResultRow> {
    return this.npsOver(this.db, `r.survey_id = $1`, [surveyId], false);
  }

  /**
   * The program's NPS over surveys with an NPS question that opened in [from, to). With a tier or
   * a segment it is a breakdown by profile: only members who granted PROFILING count.
   */
  async programNps(programId: string, args: { from: Date; to: Date; tierId?: string | null; segmentId?: string | null }): Promise<NpsResultRow> {
    if (!(args.to.getTime() > args.from.getTime())) throw badUserInput('to must be after from', 'to');
    if (args.to.getTime() - args.from.getTime() > MAX_NPS_RANGE_DAYS * 86_400_000) throw badUserInput(`The range is at most ${MAX_NPS_RANGE_DAYS} days`, 'to');
    await this.fixDueAudiences(programId);
    const params: unknown[] = [programId, args.from, args.to];
    const where = [
      `r.program_id = $1`,
      `r.survey_id IN (SELECT s.id FROM surveys s WHERE s.program_id = $1 AND s.opens_at >= $2 AND s.opens_at < $3 AND s.questions @> '[{"kind":"NPS"}]')`,
    ];
    if (args.tierId) {
      params.push(args.tierId);
      where.push(`r.tier_id = $${params.length}`);
    }
    if (args.segmentId) {
      params.push(args.segmentId);
      where.push(`EXISTS (SELECT 1 FROM segment_members sm WHERE sm.segment_id = $${params.length} AND sm.program_id = r.program_id AND sm.member_id = r.member_id)`);
    }
    return this.npsOver(this.db, where.join(' AND '), params, Boolean(args.tierId || args.segmentId));
  }

  /** Free-text answers of a survey, newest first, without who gave them. */
  async textAnswers(surveyId: string, limit: number): Promise<{ questionKey: string; text: string; answeredAt: Date }[]> {
    return (await this.db.query(
      `SELECT a->>'key' AS "questionKey", a->>'text' AS text, r.answered_at AS "answeredAt"
         FROM survey_responses r CROSS JOIN LATERAL jsonb_array_elements(r.answers) AS a
        WHERE r.survey_id = $1 AND a->>'text' IS NOT NULL
        ORDER BY r.answered_at DESC, r.member_id, a->>'key' LIMIT $2`,
      [surveyId, limit],
    )) as { questionKey: string; text: string; answeredAt: Date }[];
  }

  /**
   * Audience and answers over the recipients matching `where` (r is survey_recipients). With
   * profilingOnly, the consent filter applies to both, so the response rate stays a rate among
   * the same people.
   */
  private async npsOver(db: Query, where: string, params: unknown[], profilingOnly: boolean): Promise<NpsResultRow> {
    const [row] = (await db.query(
      `SELECT count(*)::int AS audience,
              count(a.member_id)::int AS respondents,
              count(*) FILTER (WHERE a.nps_score >= 9)::int AS promoters,
              count(*) FILTER (WHERE a.nps_score BETWEEN 7 AND 8)::int AS passives,
              count(*) FILTER (WHERE a.nps_score <= 6)::int AS detractors
         FROM survey_recipients r
         LEFT JOIN survey_responses a ON a.survey_id = r.survey_id AND a.member_id = r.member_id
         ${profilingOnly ? 'JOIN member_state ms ON ms.program_id = r.program_id AND ms.member_id = r.member_id' : ''}
        WHERE ${where} ${profilingOnly ? `AND ${GRANTED_PROFILING}` : ''}`,
      params,
    )) as { audience: number; respondents: number; promoters: number; passives: number; detractors: number }[];
    const { audience, respondents, promoters, passives, detractors } = row!;
    const summary = npsSummary({ promoters, passives, detractors });
    const round = (value: number | null) => (value === null ? null : roundTo(value));
    const rate = responseRate(respondents, audience);
    return {
      audience,
      respondents,
      responseRate: rate === null ? null : roundTo(rate, 4),
      scored: summary.scored,
      promoters,
      passives,
      detractors,
      nps: round(summary.nps),
      standardError: round(summary.standardError),
      confidenceLow: round(summary.low),
      confidenceHigh: round(summary.high),
      smallSample: summary.smallSample,
      profilingConsentOnly: profilingOnly,
    };
  }
}
