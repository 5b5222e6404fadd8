import type { WebhookEndpointResolvers, WebhookMessageResolvers } from '../generated/resolvers';
import { webhookTypeName, type WebhookEventTypeName } from '../domain/webhooks';

const typeNames = (types: string[]) => types.map(webhookTypeName).filter((name): name is WebhookEventTypeName => name !== null);

/** Reached only through the webhook queries and mutations, which check the viewer may see the endpoint. */
export const WebhookEndpoint: WebhookEndpointResolvers = {
  async partner(endpoint, _args, { loaders }) {
    return (await loaders.partnerById.load(endpoint.partnerId))!;
  },
  eventTypes: (endpoint) => typeNames(endpoint.eventTypes),
  messages: (endpoint, args, { services }) => services.webhookEndpoints.messages(endpoint.id, args),
};

export const WebhookMessage: WebhookMessageResolvers = {
  async endpoint(message, _args, { loaders }) {
    return (await loaders.webhookEndpointById.load(message.endpointId))!;
  },
  eventType: (message) => typeNames([message.eventType])[0]!,
  attempts: (message, args, { services }) => services.webhookEndpoints.attempts(message.id, args),
};
