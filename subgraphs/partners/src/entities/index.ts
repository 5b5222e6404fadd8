import { selectList } from '@loyalty-graph/shared/db';
import type { PartnerCategory, PartnerContact, PartnerStatus } from '../domain/partners';
import type { AgreementTerms } from '../domain/agreements';
import type { OfferKind, OfferStatus } from '../domain/offers';

/** Typed SQL rows, like catalog's: no TypeORM entities, one style of data access. */

/** A row of `partners`. */
export interface PartnerRow {
  id: string;
  programId: string;
  name: string;
  category: PartnerCategory;
  status: PartnerStatus;
  contacts: PartnerContact[];
  createdAt: Date;
  updatedAt: Date;
}

export const partnerColumns = selectList<PartnerRow>({
  id: 'p.id',
  programId: 'p.program_id',
  name: 'p.name',
  category: 'p.category',
  status: 'p.status',
  contacts: 'p.contacts',
  createdAt: 'p.created_at',
  updatedAt: 'p.updated_at',
});

/** A row of `partner_agreements` (amounts as PostgreSQL's numeric text). */
export interface AgreementRow extends AgreementTerms {
  id: string;
  partnerId: string;
  version: number;
  createdAt: Date;
}

export const agreementColumns = selectList<AgreementRow>({
  id: 'a.id',
  partnerId: 'a.partner_id',
  version: 'a.version',
  effectiveFrom: 'a.effective_from',
  currency: 'a.currency',
  issuePrice: 'a.issue_price::text',
  redemptionPrice: 'a.redemption_price::text',
  fixedFee: 'a.fixed_fee::text',
  transactionFee: 'a.transaction_fee::text',
  settlementPeriod: 'a.settlement_period',
  prepaidPoints: 'a.prepaid_points',
  creditLimitPoints: 'a.credit_limit_points',
  createdAt: 'a.created_at',
});

/** A row of `partner_api_clients` (scopes as scope strings). */
export interface ApiClientRow {
  id: string;
  partnerId: string;
  name: string;
  scopes: string[];
  expiresAt: Date | null;
  rateLimitPerMinute: number | null;
  lastUsedAt: Date | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export const apiClientColumns = selectList<ApiClientRow>({
  id: 'c.id',
  partnerId: 'c.partner_id',
  name: 'c.name',
  scopes: 'c.scopes',
  expiresAt: 'c.expires_at',
  rateLimitPerMinute: 'c.rate_limit_per_minute',
  lastUsedAt: 'c.last_used_at',
  createdAt: 'c.created_at',
  revokedAt: 'c.revoked_at',
});

/** A row of `partner_api_keys`, without its hash (nothing reads it back but the lookup). */
export interface ApiKeyRow {
  id: string;
  clientId: string;
  display: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export const apiKeyColumns = selectList<ApiKeyRow>({
  id: 'k.id',
  clientId: 'k.client_id',
  display: 'k.display',
  createdAt: 'k.created_at',
  expiresAt: 'k.expires_at',
  revokedAt: 'k.revoked_at',
});
export * from './settlement';

/** A row of `offers`. */
export interface OfferRow {
  id: string;
  programId: string;
  partnerId: string | null;
  kind: OfferKind;
  status: OfferStatus;
  title: string;
  description: string;
  tierIds: string[];
  segmentIds: string[];
  validFrom: Date;
  validUntil: Date;
  visibleFrom: Date;
  visibleUntil: Date;
  createdAt: Date;
  updatedAt: Date;
  publishedAt: Date | null;
  withdrawnAt: Date | null;
}

export const offerColumns = selectList<OfferRow>({
  id: 'o.id',
  programId: 'o.program_id',
  partnerId: 'o.partner_id',
  kind: 'o.kind',
  status: 'o.status',
  title: 'o.title',
  description: 'o.description',
  tierIds: 'o.tier_ids::text[]',
  segmentIds: 'o.segment_ids::text[]',
  validFrom: 'o.valid_from',
  validUntil: 'o.valid_until',
  visibleFrom: 'o.visible_from',
  visibleUntil: 'o.visible_until',
  createdAt: 'o.created_at',
  updatedAt: 'o.updated_at',
  publishedAt: 'o.published_at',
  withdrawnAt: 'o.withdrawn_at',
});
