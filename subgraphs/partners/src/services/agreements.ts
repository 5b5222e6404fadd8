import { type Clock, type Viewer } from '@loyalty-graph/shared';
import { partnersEvents } from '@loyalty-graph/shared/contracts';
import { idempotent } from '@loyalty-graph/shared/db';
import { emit } from '@loyalty-graph/shared/events';
import type { DataSource } from 'typeorm';
import { checkAgreement, type AgreementInput } from '../domain/agreements';
import { managedPartner } from './partners';

/** Agreement versions: only ever published, never edited. */
export class AgreementService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async publish(viewer: Viewer, input: AgreementInput & { idempotencyKey: string; partnerId: string }): Promise<{ agreementId: string }> {
    const partner = await managedPartner(this.db, viewer, input.partnerId);
    // Checked once before the transaction (malformed input never takes a lock), again inside
    // against the latest version, which only the lock makes certain.
    checkAgreement(input, this.clock.now(), null);
    const { idempotencyKey, ...request } = input;
    const { result } = await idempotent(
      this.db,
      { programId: partner.programId, key: idempotencyKey, operation: 'publishPartnerAgreement', input: request },
      async (tx) => {
        // The partner's row lock orders two publications at once: the second sees the first as
        // the latest version (and must start after it).
        await tx.query(`SELECT 1 FROM partners WHERE id = $1 FOR UPDATE`, [partner.id]);
        const [latest] = (await tx.query(`SELECT version, effective_from AS "effectiveFrom" FROM partner_agreements WHERE partner_id = $1 ORDER BY version DESC LIMIT 1`, [partner.id])) as {
          version: number;
          effectiveFrom: Date;
        }[];
        const now = this.clock.now();
        const terms = checkAgreement(input, now, latest?.effectiveFrom ?? null);
        const [row] = (await tx.query(
          `INSERT INTO partner_agreements (partner_id, version, effective_from, currency, issue_price, redemption_price, fixed_fee, transaction_fee, settlement_period, prepaid_points, credit_limit_points, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
          [
            partner.id,
            (latest?.version ?? 0) + 1,
            terms.effectiveFrom,
            terms.currency,
            terms.issuePrice,
            terms.redemptionPrice,
            terms.fixedFee,
            terms.transactionFee,
            terms.settlementPeriod,
            terms.prepaidPoints,
            terms.creditLimitPoints,
            now,
          ],
        )) as { id: string }[];
        // In the version's transaction: the ledger, which enforces the funding terms, learns of
        // every version that commits and of none that does not.
        await emit(
          tx,
          partnersEvents,
          [
            {
              type: 'PartnerFundingTermsChanged',
              payload: {
                programId: partner.programId,
                partnerId: partner.id,
                agreementId: row!.id,
                version: (latest?.version ?? 0) + 1,
                effectiveFrom: terms.effectiveFrom.toISOString(),
                prepaidPoints: terms.prepaidPoints,
                creditLimitPoints: terms.creditLimitPoints,
              },
            },
          ],
          now,
        );
        return { agreementId: row!.id };
      },
      this.clock,
    );
    return result;
  }
}
