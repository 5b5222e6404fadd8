import { decodeInstantIdCursor, DomainError, encodeCursor, forbidden, InputError, pageSize, toConnection, type Clock, type Connection, type PageArgs, type Viewer } from '@loyalty-graph/shared';
import { idempotent, withRetries } from '@loyalty-graph/shared/db';
import type { DataSource, EntityManager } from 'typeorm';
import { offerColumns, partnerColumns, type OfferRow, type PartnerRow } from '../entities';
import { checkUuid } from '../domain/limits';
import { checkOfferTexts, offerTransition, checkTargets, checkWindows, type OfferKind, type OfferStatus } from '../domain/offers';
import { canReadOffers, canWriteOffer } from '../domain/policy';

export interface CreateOfferInput {
  idempotencyKey: string;
  programId?: string | null;
  partnerId?: string | null;
  kind: OfferKind;
  title: string;
  description: string;
  tierIds?: readonly string[] | null;
  segmentIds?: readonly string[] | null;
  validFrom: Date;
  validUntil: Date;
  visibleFrom?: Date | null;
  visibleUntil?: Date | null;
}

export interface UpdateOfferInput {
  offerId: string;
  kind?: OfferKind | null;
  title?: string | null;
  description?: string | null;
  tierIds?: readonly string[] | null;
  segmentIds?: readonly string[] | null;
  validFrom?: Date | null;
  validUntil?: Date | null;
  visibleFrom?: Date | null;
  visibleUntil?: Date | null;
}

const notFound = () => new DomainError('OFFER_NOT_FOUND', 'There is no such offer', 'offerId');

/**
 * Offers and pre-sales: drafts written by the program's admins (any partner's, or the program's
 * own) or by a partner's key (its own only), then published and withdrawn. Creation is idempotent
 * per program and key; every change of one offer runs under its row lock.
 */
export class OfferService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async create(viewer: Viewer, input: CreateOfferInput): Promise<{ offerId: string }> {
    const owner = await this.owner(viewer, input);
    if (!canWriteOffer(viewer, owner)) throw forbidden(viewer.kind === 'PARTNER' ? 'A partner writes only its own offers' : 'Only the program’s administrators write its offers');
    if (owner.partner?.status === 'ENDED') throw new DomainError('PARTNER_ENDED', 'An ENDED partner publishes no offers', 'partnerId');
    const { title, description } = checkOfferTexts(input);
    const tierIds = checkTargets(input.tierIds, 'tierIds');
    const segmentIds = checkTargets(input.segmentIds, 'segmentIds');
    const windows = checkWindows(input.kind, input, this.clock.now());
    const { idempotencyKey, ...request } = input;
    const { result } = await idempotent(
      this.db,
      // The owner is part of the request: one key reused by another partner is a CONFLICT, not its offer.
      { programId: owner.programId, key: idempotencyKey, operation: 'createOffer', input: { ...request, partnerId: owner.partnerId } },
      async (tx) => {
        const now = this.clock.now();
        const [row] = (await tx.query(
          `INSERT INTO offers (program_id, partner_id, kind, status, title, description, tier_ids, segment_ids, valid_from, valid_until, visible_from, visible_until, created_by, created_at, updated_at)
           VALUES ($1, $2, $3, 'DRAFT', $4, $5, $6::uuid[], $7::uuid[], $8, $9, $10, $11, $12, $13, $13) RETURNING id`,
          [owner.programId, owner.partnerId, input.kind, title, description, tierIds, segmentIds, windows.validFrom, windows.validUntil, windows.visibleFrom, windows.visibleUntil, viewer.subject ?? viewer.kind, now],
        )) as { id: string }[];
        return { offerId: row!.id };
      },
      this.clock,
    );
    return result;
  }

  /** A draft's fields; absent ones are unchanged, and the windows are checked again as a whole. */
  update(viewer: Viewer, input: UpdateOfferInput): Promise<{ offerId: string }> {
    return this.change(viewer, input.offerId, async (tx, offer) => {
      offerTransition(offer.status, 'EDIT');
      const kind = input.kind ?? offer.kind;
      const { title, description } = checkOfferTexts({ title: input.title ?? offer.title, description: input.description ?? offer.description });
      const tierIds = input.tierIds == null ? offer.tierIds : checkTargets(input.tierIds, 'tierIds');
      const segmentIds = input.segmentIds == null ? offer.segmentIds : checkTargets(input.segmentIds, 'segmentIds');
      const now = this.clock.now();
      const windows = checkWindows(
        kind,
        {
          validFrom: input.validFrom ?? offer.validFrom,
          validUntil: input.validUntil ?? offer.validUntil,
          visibleFrom: input.visibleFrom ?? offer.visibleFrom,
          visibleUntil: input.visibleUntil ?? offer.visibleUntil,
        },
        now,
      );
      await tx.query(
        `UPDATE offers SET kind = $2, title = $3, description = $4, tier_ids = $5::uuid[], segment_ids = $6::uuid[], valid_from = $7, valid_until = $8, visible_from = $9, visible_until = $10, updated_at = $11 WHERE id = $1`,
        [offer.id, kind, title, description, tierIds, segmentIds, windows.validFrom, windows.validUntil, windows.visibleFrom, windows.visibleUntil, now],
      );
    });
  }

  /** Members see it from its visibleFrom on. Publishing a published offer again changes nothing (a retry). */
  publish(viewer: Viewer, input: { offerId: string }): Promise<{ offerId: string }> {
    return this.change(viewer, input.offerId, async (tx, offer) => {
      if (offerTransition(offer.status, 'PUBLISHED') === 'UNCHANGED') return;
      const now = this.clock.now();
      if (offer.validUntil <= now) throw new DomainError('OFFER_ENDED', 'The offer’s validity has ended: change its dates first', 'offerId');
      await tx.query(`UPDATE offers SET status = 'PUBLISHED', published_at = $2, updated_at = $2 WHERE id = $1`, [offer.id, now]);
    });
  }

  /** Members stop seeing it at once; for good (a withdrawn offer is not published again). Withdrawing twice keeps the first time. */
  withdraw(viewer: Viewer, input: { offerId: string }): Promise<{ offerId: string }> {
    return this.change(viewer, input.offerId, async (tx, offer) => {
      if (offerTransition(offer.status, 'WITHDRAWN') === 'UNCHANGED') return;
      const now = this.clock.now();
      await tx.query(`UPDATE offers SET status = 'WITHDRAWN', withdrawn_at = $2, updated_at = $2 WHERE id = $1`, [offer.id, now]);
    });
  }

  /** Under the offer's row lock: a publish and a withdrawal at once are applied one after the other. */
  private change(viewer: Viewer, offerId: string, apply: (tx: EntityManager, offer: OfferRow) => Promise<void>): Promise<{ offerId: string }> {
    const id = checkUuid(offerId, 'offerId');
    return withRetries(() =>
      this.db.transaction(async (tx) => {
        const [offer] = (await tx.query(`SELECT ${offerColumns} FROM offers o WHERE o.id = $1 FOR UPDATE`, [id])) as OfferRow[];
        // An offer the viewer may not even read is "not found": a partner learns nothing of others'.
        if (!offer || !canReadOffers(viewer, offer)) throw notFound();
        if (!canWriteOffer(viewer, offer)) throw forbidden('Only the program’s administrators or the offer’s partner change it');
        await apply(tx, offer);
        return { offerId: offer.id };
      }),
    );
  }

  /**
   * Whose offer a new one is. A partner's key: always its own partner in its own program (naming
   * another is FORBIDDEN). Staff: the named partner's program, or the named program for its own
   * offer.
   */
  private async owner(viewer: Viewer, input: { programId?: string | null; partnerId?: string | null }): Promise<{ programId: string; partnerId: string | null; partner: PartnerRow | null }> {
    const programId = input.programId == null ? null : checkUuid(input.programId, 'programId');
    const named = input.partnerId == null ? null : checkUuid(input.partnerId, 'partnerId');
    if (viewer.kind === 'PARTNER') {
      if ((named && named !== viewer.partnerId) || (programId && programId !== viewer.programId)) throw forbidden('A partner writes only its own offers');
    }
    const partnerId = viewer.kind === 'PARTNER' ? viewer.partnerId : named;
    if (!partnerId) {
      if (!programId) throw new InputError('programId is required for the program’s own offer', 'programId');
      return { programId, partnerId: null, partner: null };
    }
    const [partner] = (await this.db.query(`SELECT ${partnerColumns} FROM partners p WHERE p.id = $1`, [partnerId])) as PartnerRow[];
    if (!partner) throw new DomainError('PARTNER_NOT_FOUND', 'There is no such partner', 'partnerId');
    if (programId && programId !== partner.programId) throw new InputError('The partner is not in that program', 'programId');
    return { programId: partner.programId, partnerId: partner.id, partner };
  }
}

/** Offers newest first, by program or by partner, optionally of one status. */
export async function listOffers(db: DataSource, by: { programId: string } | { partnerId: string }, status: OfferStatus | null | undefined, page: PageArgs): Promise<Connection<OfferRow>> {
  const limit = pageSize(page.first);
  const after = decodeInstantIdCursor(page.after);
  const params: unknown[] = ['programId' in by ? by.programId : by.partnerId];
  const where = ['programId' in by ? 'o.program_id = $1' : 'o.partner_id = $1'];
  if (status) where.push(`o.status = $${params.push(status)}`);
  if (after) where.push(`(o.created_at, o.id) < ($${params.push(after[0])}::timestamptz, $${params.push(after[1])}::uuid)`);
  const rows = (await db.query(`SELECT ${offerColumns} FROM offers o WHERE ${where.join(' AND ')} ORDER BY o.created_at DESC, o.id DESC LIMIT ${limit + 1}`, params)) as OfferRow[];
  return toConnection(rows, limit, (o) => encodeCursor([o.createdAt.toISOString(), o.id]));
}
