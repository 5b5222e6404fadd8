import { badUserInput, forbidden } from '@loyalty-graph/shared';
import type { QueryResolvers } from '../generated/resolvers';
import { canManageWebhooks } from '../domain/policy';

/** The webhook queries, joined into Query in resolvers/index.ts. */
export const WebhookQuery: Pick<QueryResolvers, 'webhookEndpoints' | 'webhookEndpoint' | 'webhookMessage'> = {
  async webhookEndpoints(_p, { partnerId }, { viewer, loaders }) {
    const id = partnerId ?? (viewer.kind === 'PARTNER' ? viewer.partnerId : null);
    if (!id) throw badUserInput('partnerId is required', 'partnerId');
    const partner = await loaders.partnerById.load(id);
    if (!partner) return [];
    if (!canManageWebhooks(viewer, partner)) throw forbidden('Only the partner and the program’s administrators see its webhooks');
    return loaders.webhookEndpointsByPartner.load(partner.id);
  },
  async webhookEndpoint(_p, { id }, { viewer, loaders, services }) {
    return services.webhookEndpoints.visible(viewer, await loaders.webhookEndpointById.load(id));
  },
  async webhookMessage(_p, { webhookId }, { viewer, loaders, services }) {
    const message = await loaders.webhookMessageByWebhookId.load(webhookId);
    if (!message) return null;
    await services.webhookEndpoints.visible(viewer, await loaders.webhookEndpointById.load(message.endpointId));
    return message;
  },
};
