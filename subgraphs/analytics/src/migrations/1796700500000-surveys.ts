import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Surveys sent to a program's members and their answers. The audience is fixed once, when the
 * survey opens (survey_recipients, one set-based INSERT … SELECT), so a response rate divides by
 * the members who were actually asked, not by whoever is in the segment on the day it is read.
 * One response per member and survey is the primary key: a second answer, even at the same
 * instant, cannot be stored.
 */
export class Surveys1796700500000 implements MigrationInterface {
  name = 'Surveys1796700500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE surveys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        -- a retry with the same key returns the same survey; the hash says whether it is the same request
        idempotency_key text NOT NULL,
        request_hash text NOT NULL,
        title text NOT NULL,
        -- null: every ACTIVE member of the program
        segment_id uuid,
        -- [{key, kind: NPS|TEXT, prompt, required}], in the order asked
        questions jsonb NOT NULL,
        opens_at timestamptz NOT NULL,
        closes_at timestamptz NOT NULL,
        -- set by closeSurvey before closes_at
        closed_at timestamptz,
        -- when survey_recipients was filled (null until the survey has opened and been looked at)
        audience_fixed_at timestamptz,
        audience_size integer,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        CONSTRAINT surveys_window CHECK (closes_at > opens_at),
        CONSTRAINT surveys_idempotency UNIQUE (program_id, idempotency_key)
      )`);
    await q.query(`CREATE INDEX surveys_program_opens ON surveys (program_id, opens_at)`);
    await q.query(`
      CREATE TABLE survey_recipients (
        survey_id uuid NOT NULL REFERENCES surveys (id),
        program_id uuid NOT NULL,
        member_id uuid NOT NULL,
        -- the member's tier when the survey opened: NPS by tier compares like with like
        tier_id uuid,
        PRIMARY KEY (survey_id, member_id)
      )`);
    await q.query(`CREATE INDEX survey_recipients_member ON survey_recipients (program_id, member_id)`);
    await q.query(`
      CREATE TABLE survey_responses (
        survey_id uuid NOT NULL,
        member_id uuid NOT NULL,
        program_id uuid NOT NULL,
        -- the NPS question's score (0–10), copied out of answers so NPS is one indexed aggregate
        nps_score smallint CHECK (nps_score BETWEEN 0 AND 10),
        -- [{key, score, text}] in question order
        answers jsonb NOT NULL,
        -- who submitted it: the member's or the agent's subject
        answered_by text NOT NULL,
        answered_at timestamptz NOT NULL,
        PRIMARY KEY (survey_id, member_id),
        FOREIGN KEY (survey_id, member_id) REFERENCES survey_recipients (survey_id, member_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE survey_responses`);
    await q.query(`DROP TABLE survey_recipients`);
    await q.query(`DROP TABLE surveys`);
  }
}
