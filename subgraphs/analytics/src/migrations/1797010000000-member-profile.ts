import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The profile fields segments may use, from members' MemberProfileChanged: the birth date (a
 * calendar date, never an age: an age changes on birthdays without an event) and the preferred
 * language as the member gave it (a BCP 47 tag). Rules on them match only members who granted
 * PROFILING (domain/segments.ts). Each event is a PROFILE_CHANGED member fact, its `detail`
 * {birthDate, preferredLanguage}.
 */
export class MemberProfile1797010000000 implements MigrationInterface {
  name = 'MemberProfile1797010000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE member_state ADD COLUMN birth_date date, ADD COLUMN preferred_language text`);
    await q.query(`ALTER TABLE member_facts DROP CONSTRAINT member_facts_kind_check`);
    await q.query(
      `ALTER TABLE member_facts ADD CONSTRAINT member_facts_kind_check CHECK (kind IN ('ENROLLED', 'STATUS_CHANGED', 'TIER_CHANGED', 'GROUPS_CHANGED', 'CONSENTS_CHANGED', 'REFERRAL_QUALIFIED', 'PROFILE_CHANGED'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM member_facts WHERE kind = 'PROFILE_CHANGED'`);
    await q.query(`ALTER TABLE member_facts DROP CONSTRAINT member_facts_kind_check`);
    await q.query(`ALTER TABLE member_facts ADD CONSTRAINT member_facts_kind_check CHECK (kind IN ('ENROLLED', 'STATUS_CHANGED', 'TIER_CHANGED', 'GROUPS_CHANGED', 'CONSENTS_CHANGED', 'REFERRAL_QUALIFIED'))`);
    await q.query(`ALTER TABLE member_state DROP COLUMN birth_date, DROP COLUMN preferred_language`);
  }
}
