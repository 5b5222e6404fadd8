import type { Clock } from '@loyalty-graph/shared';
import { groupedBy, inKeyOrder, rowsById } from '@loyalty-graph/shared/db';
import type { MemberDirectory } from '@loyalty-graph/shared/member-snapshots';
import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { webhookEndpointColumns, webhookMessageColumns, type WebhookEndpointRow, type WebhookMessageRow } from './entities/webhooks';
import { agreementColumns, apiClientColumns, apiKeyColumns, offerColumns, partnerColumns, type AgreementRow, type ApiClientRow, type ApiKeyRow, type OfferRow, type PartnerRow } from './entities';
import { offersForMembers } from './services/member-offers';

/**
 * Built per request (never shared between users: a loader's cache is per viewer). One SQL
 * statement per batch, values in key order, null for misses (malformed ids included).
 */
export function createLoaders(db: DataSource, members: MemberDirectory, clock: Clock) {
  return {
    partnerById: rowsById<PartnerRow>(db, `SELECT ${partnerColumns} FROM partners p WHERE p.id = ANY($1::uuid[])`),
    partnersByProgram: groupedBy<PartnerRow>((ids) => db.query(`SELECT ${partnerColumns} FROM partners p WHERE p.program_id = ANY($1::uuid[]) ORDER BY lower(p.name)`, [ids]), (row) => row.programId),
    agreementById: rowsById<AgreementRow>(db, `SELECT ${agreementColumns} FROM partner_agreements a WHERE a.id = ANY($1::uuid[])`),
    agreementsByPartner: groupedBy<AgreementRow>(
      (ids) => db.query(`SELECT ${agreementColumns} FROM partner_agreements a WHERE a.partner_id = ANY($1::uuid[]) ORDER BY a.version DESC`, [ids]),
      (row) => row.partnerId,
    ),
    apiClientById: rowsById<ApiClientRow>(db, `SELECT ${apiClientColumns} FROM partner_api_clients c WHERE c.id = ANY($1::uuid[])`),
    apiClientsByPartner: groupedBy<ApiClientRow>(
      (ids) => db.query(`SELECT ${apiClientColumns} FROM partner_api_clients c WHERE c.partner_id = ANY($1::uuid[]) ORDER BY c.created_at DESC, c.id`, [ids]),
      (row) => row.partnerId,
    ),
    apiKeysByClient: groupedBy<ApiKeyRow>(
      (ids) => db.query(`SELECT ${apiKeyColumns} FROM partner_api_keys k WHERE k.client_id = ANY($1::uuid[]) ORDER BY k.created_at DESC, k.expires_at DESC NULLS FIRST, k.id`, [ids]),
      (row) => row.clientId,
    ),
    webhookEndpointById: rowsById<WebhookEndpointRow>(db, `SELECT ${webhookEndpointColumns} FROM webhook_endpoints e JOIN partners p ON p.id = e.partner_id WHERE e.id = ANY($1::uuid[])`),
    webhookEndpointsByPartner: groupedBy<WebhookEndpointRow>(
      (ids) => db.query(`SELECT ${webhookEndpointColumns} FROM webhook_endpoints e JOIN partners p ON p.id = e.partner_id WHERE e.partner_id = ANY($1::uuid[]) ORDER BY e.created_at, e.id`, [ids]),
      (row) => row.partnerId,
    ),
    webhookMessageById: rowsById<WebhookMessageRow>(db, `SELECT ${webhookMessageColumns} FROM webhook_messages m WHERE m.id = ANY($1::uuid[])`),
    webhookMessageByWebhookId: new DataLoader<string, WebhookMessageRow | null>(async (ids) =>
      inKeyOrder(ids, (await db.query(`SELECT ${webhookMessageColumns} FROM webhook_messages m WHERE m.webhook_id = ANY($1::text[])`, [[...ids]])) as WebhookMessageRow[], (row) => row.webhookId),
    ),
    offerById: rowsById<OfferRow>(db, `SELECT ${offerColumns} FROM offers o WHERE o.id = ANY($1::uuid[])`),
    /** Member.offers for every member of the request at once (one time for the whole batch). */
    offersByMember: new DataLoader((ids: readonly string[]) => offersForMembers(db, members, ids, clock.now())),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
