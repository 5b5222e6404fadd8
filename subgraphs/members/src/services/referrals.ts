import { DomainError, type Clock } from '@loyalty-graph/shared';
import { returning } from '@loyalty-graph/shared/db';
import { membersEvents } from '@loyalty-graph/shared/contracts';
import { emit } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';
import { normalizeReferralCode, paysBonuses, type ReferralTrigger } from '../domain/referral';
import { referralColumns, type ReferralRow } from '../entities/referral';
import type { ProgramSettings } from './program-settings';

/**
 * Referrals: a friend enrols with a member's code; when the program's trigger happens (the
 * enrolment itself, or the friend's first purchase) the referral qualifies once, with the bonuses
 * in force then, and ReferralQualified tells the ledger to credit them.
 */
export class ReferralService {
  constructor(private readonly clock: Clock) {}

  /** Inside the enrolment's transaction: links the new member to whoever's code they gave. Returns the referral id. */
  async recordAtEnrolment(tx: EntityManager, referee: { id: string; programId: string }, settings: ProgramSettings, rawCode: string, referralId: string, now: Date): Promise<void> {
    const code = normalizeReferralCode(rawCode, 'referralCode');
    const [referrer] = (await tx.query(`SELECT id FROM members WHERE program_id = $1 AND referral_code = $2 AND status <> 'CLOSED'`, [referee.programId, code])) as { id: string }[];
    if (!referrer) throw new DomainError('REFERRAL_CODE_NOT_FOUND', 'No member of this program has that referral code', 'referralCode');
    await tx.query(`INSERT INTO referrals (id, program_id, referrer_id, referee_id, status, trigger, created_at) VALUES ($1, $2, $3, $4, 'PENDING', $5, $6)`, [
      referralId,
      referee.programId,
      referrer.id,
      referee.id,
      settings.referrals.trigger,
      now,
    ]);
    await this.qualify(tx, referee.id, settings, 'ENROLMENT');
  }

  /** A purchase by this member was counted: their pending referral may now qualify. */
  async onPurchase(tx: EntityManager, memberId: string, settings: ProgramSettings): Promise<void> {
    await this.qualify(tx, memberId, settings, 'FIRST_PURCHASE');
  }

  /**
   * PENDING → QUALIFIED at most once (the conditional UPDATE), so a redelivered purchase event pays
   * nothing twice. The referral qualifies on the trigger in force when the friend enrolled (a later
   * change of the rules does not strand it), with the bonuses in force now.
   */
  private async qualify(tx: EntityManager, refereeId: string, { programId, referrals: rules }: ProgramSettings, happened: ReferralTrigger): Promise<void> {
    if (!paysBonuses(rules)) return;
    const now = this.clock.now();
    const [row] = await returning<ReferralRow>(
      tx,
      `UPDATE referrals AS r SET status = 'QUALIFIED', referrer_bonus = $2, referee_bonus = $3, qualified_at = $4
       WHERE r.referee_id = $1 AND r.status = 'PENDING' AND r.trigger = $5 RETURNING ${referralColumns}`,
      [refereeId, rules.referrerBonus, rules.refereeBonus, now, happened],
    );
    if (!row) return;
    const payload = {
      programId,
      referralId: row.id,
      referrerId: row.referrerId,
      refereeId,
      referrerBonus: rules.referrerBonus,
      refereeBonus: rules.refereeBonus,
      qualifiedAt: now.toISOString(),
    };
    await emit(tx, membersEvents, [{ type: 'ReferralQualified', payload }], now);
  }
}
