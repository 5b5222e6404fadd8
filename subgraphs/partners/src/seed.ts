import { randomUUID } from 'node:crypto';
import { ANONYMOUS, type Clock, type Viewer } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import { AgreementService } from './services/agreements';
import { ApiClientService } from './services/api-clients';
import { OfferService } from './services/offers';
import { PartnerService } from './services/partners';

/** A platform operator: the seed runs before any program admin exists. */
const SEED_VIEWER: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId: null, roles: ['ADMIN'], subject: 'demo-seed' };

export interface DemoPartner {
  partnerId: string;
  /** A fresh API key of the demo client: made at every start, printed, never stored in the clear. */
  apiKey: string;
}

/**
 * For `pnpm dev`: one fuel partner per program with an agreement, a published offer and an API client, once (fixed
 * idempotency keys), then a new key for that client at every start. No key is committed or kept:
 * the previous start's key stops now (a rotation without overlap), and only this start's is printed.
 */
export async function seedDemoPartner(db: DataSource, clock: Clock, programId: string): Promise<DemoPartner> {
  const partners = new PartnerService(db, clock);
  const clients = new ApiClientService(db, clock);
  const { partnerId } = await partners.create(SEED_VIEWER, {
    idempotencyKey: 'demo-seed-partner',
    programId,
    name: 'Nordic Fuel',
    category: 'FUEL',
    contacts: [{ name: 'Demo Contact', email: 'partners@example.com', role: 'accounts payable' }],
  });
  const [agreement] = (await db.query(`SELECT 1 FROM partner_agreements WHERE partner_id = $1 LIMIT 1`, [partnerId])) as unknown[];
  if (!agreement) {
    await new AgreementService(db, clock).publish(SEED_VIEWER, {
      idempotencyKey: 'demo-seed-agreement',
      partnerId,
      currency: 'EUR',
      issuePricePerPoint: { amount: '0.0100', currency: 'EUR' },
      redemptionPricePerPoint: { amount: '0.0075', currency: 'EUR' },
      fees: { fixedPerPeriod: { amount: '250.00', currency: 'EUR' }, perTransaction: { amount: '0.02', currency: 'EUR' } },
      settlementPeriod: 'MONTHLY',
      creditLimitPoints: 10_000_000,
    });
  }
  const [offer] = (await db.query(`SELECT 1 FROM offers WHERE partner_id = $1 LIMIT 1`, [partnerId])) as unknown[];
  if (!offer) {
    // Once (checked above, since its dates differ at every start): valid from now for a year.
    const offers = new OfferService(db, clock);
    const now = clock.now();
    const { offerId } = await offers.create(SEED_VIEWER, {
      idempotencyKey: 'demo-seed-offer',
      partnerId,
      kind: 'OFFER',
      title: 'Double points on every car wash',
      description: 'Wash your car at any Nordic Fuel station this year and earn twice the points.',
      validFrom: now,
      validUntil: new Date(now.getTime() + 365 * 86_400_000),
    });
    await offers.publish(SEED_VIEWER, { offerId });
  }
  const { clientId } = await clients.create(SEED_VIEWER, {
    idempotencyKey: 'demo-seed-api-client',
    partnerId,
    name: 'Demo till integration',
    // Every scope, so a newcomer can try each partner capability with the printed key.
    scopes: ['MEMBERS_LOOKUP', 'MEMBERS_ENROLL', 'PURCHASES_WRITE', 'PURCHASES_READ', 'OFFERS_WRITE', 'SETTLEMENT_READ', 'WEBHOOKS_MANAGE'],
  });
  const rotated = await clients.rotate(SEED_VIEWER, { idempotencyKey: `demo-start-${randomUUID()}`, clientId, overlapMinutes: 0 });
  return { partnerId, apiKey: rotated.key! };
}
