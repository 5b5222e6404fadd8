import { DomainError, type Clock, type Viewer } from '@loyalty-graph/shared';
import { partnersEvents } from '@loyalty-graph/shared/contracts';
import { idempotent, isUniqueViolation } from '@loyalty-graph/shared/db';
import { emit } from '@loyalty-graph/shared/events';
import type { DataSource } from 'typeorm';
import { checkInt, checkText, LIMITS } from '../domain/limits';
import { managedPartner } from './partners';

export interface PrepaidBlock {
  id: string;
  partnerId: string;
  points: number;
  reference: string;
  addedAt: Date;
}

/**
 * Prepaid top-ups: a further block of points a partner paid for. The partners subgraph records the
 * block and announces it; the ledger adds it to the partner's prepaid balance (docs in the README).
 */
export class PrepaidService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async add(viewer: Viewer, input: { idempotencyKey: string; partnerId: string; points: number; reference: string }): Promise<PrepaidBlock> {
    const partner = await managedPartner(this.db, viewer, input.partnerId);
    const points = checkInt(input.points, 'points', 1, LIMITS.points);
    const reference = checkText(input.reference, 'reference', LIMITS.referenceLength);
    if (partner.status === 'ENDED') throw new DomainError('PARTNER_ENDED', 'An ENDED partner issues no more points: it gets no prepaid blocks', 'partnerId');
    const { idempotencyKey, ...request } = input;
    try {
      const { result } = await idempotent(
        this.db,
        { programId: partner.programId, key: idempotencyKey, operation: 'addPartnerPrepaidPoints', input: request },
        async (tx) => {
          const now = this.clock.now();
          // The unique (partner, reference) index is the check that holds under concurrency: the
          // same invoice entered twice under two keys adds one block.
          const [row] = (await tx.query(`INSERT INTO partner_prepaid_blocks (partner_id, points, reference, added_by, added_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`, [
            partner.id,
            points,
            reference,
            viewer.subject,
            now,
          ])) as { id: string }[];
          await emit(tx, partnersEvents, [{ type: 'PartnerPrepaidPointsAdded', payload: { programId: partner.programId, partnerId: partner.id, points, reference, addedAt: now.toISOString() } }], now);
          return { id: row!.id, partnerId: partner.id, points, reference, addedAt: now.toISOString() };
        },
        this.clock,
      );
      // Stored as JSON with the key: the date comes back as text on a replay.
      return { ...result, addedAt: new Date(result.addedAt) };
    } catch (error) {
      if (isUniqueViolation(error, 'partner_prepaid_blocks_reference')) {
        throw new DomainError('PREPAID_REFERENCE_USED', `The partner already has a prepaid block with reference ${reference}`, 'reference');
      }
      throw error;
    }
  }
}
