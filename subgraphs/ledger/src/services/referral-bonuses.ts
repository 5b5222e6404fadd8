import type { Clock } from '@loyalty-graph/shared';
import type { membersEvents } from '@loyalty-graph/shared/contracts';
import type { ContractEvent } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';
import { bonusLines } from '../domain/journal';
import { expiryFor } from '../domain/settings';
import { lots } from './lots';
import type { ProgramLedgerService } from './program-ledger';
import { store } from './store';

/**
 * Credits referral bonuses when the members subgraph says a referral qualified. Runs inside the
 * event consumer's transaction; the referral_bonuses key makes each (referral, role) pay once
 * even if the event arrives again after its processed record was forgotten.
 */
export class ReferralBonusService {
  constructor(
    private readonly clock: Clock,
    private readonly programs: ProgramLedgerService,
  ) {}

  async onReferralQualified(tx: EntityManager, event: ContractEvent<typeof membersEvents, 'ReferralQualified'>): Promise<void> {
    const referral = event.payload;
    const bonuses = [
      { role: 'REFERRER' as const, memberId: referral.referrerId, points: referral.referrerBonus },
      { role: 'REFEREE' as const, memberId: referral.refereeId, points: referral.refereeBonus },
    ].filter((bonus) => bonus.points > 0);
    if (!bonuses.length) return;
    const now = this.clock.now();
    const program = await store.programAccounts(tx, referral.programId);
    // Both members' accounts locked at once, in id order, like a transfer.
    const accounts = await store.lockMembersAccounts(tx, referral.programId, bonuses.map((b) => b.memberId));
    const settings = await this.programs.settings(referral.programId, tx);
    for (const bonus of bonuses) {
      const [claimed] = (await tx.query(`SELECT 1 FROM referral_bonuses WHERE referral_id = $1 AND role = $2`, [referral.referralId, bonus.role])) as unknown[];
      if (claimed) continue;
      const member = accounts.get(bonus.memberId)!;
      const entryId = await store.post(
        tx,
        {
          programId: referral.programId,
          kind: 'BONUS',
          memberId: bonus.memberId,
          memberAmount: bonus.points,
          description: bonus.role === 'REFERRER' ? 'Referral bonus: a friend you invited qualified' : 'Welcome bonus: you joined through a referral',
          reasonCode: `REFERRAL_${bonus.role}`,
          createdBy: null,
          createdAt: now,
        },
        bonusLines(member, program, bonus.points),
        [
          {
            type: 'ReferralBonusCredited',
            payload: { programId: referral.programId, memberId: bonus.memberId, referralId: referral.referralId, role: bonus.role, points: bonus.points },
          },
        ],
      );
      await tx.query(`INSERT INTO referral_bonuses (referral_id, role, program_id, member_id, points, entry_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        referral.referralId,
        bonus.role,
        referral.programId,
        bonus.memberId,
        bonus.points,
        entryId,
        now,
      ]);
      await lots.credit(tx, member.reward, entryId, now, [{ points: bonus.points, expiresAt: expiryFor(now, settings) }]);
    }
  }
}
