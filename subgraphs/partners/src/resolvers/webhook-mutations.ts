import { toPayload } from '@loyalty-graph/shared';
import type { MutationResolvers } from '../generated/resolvers';
import type { Loaders } from '../loaders';
import type { WithSecret } from '../services/webhook-endpoints';

/** The endpoint with its secret (shown once). */
async function withSecret(run: () => Promise<WithSecret>, loaders: Loaders) {
  const { result, userErrors } = await toPayload('result', run);
  return { endpoint: result ? await loaders.webhookEndpointById.load(result.endpointId) : null, secret: result?.secret ?? null, userErrors };
}

/** The webhook mutations, joined into Mutation in resolvers/index.ts. Thin: the service validates and writes. */
export const WebhookMutation: Pick<
  MutationResolvers,
  'createWebhookEndpoint' | 'updateWebhookEndpoint' | 'rotateWebhookSecret' | 'deleteWebhookEndpoint' | 'replayWebhookMessage' | 'replayWebhookMessages'
> = {
  createWebhookEndpoint: (_p, { input }, { viewer, services, loaders }) => withSecret(() => services.webhookEndpoints.create(viewer, input), loaders),
  async updateWebhookEndpoint(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.webhookEndpoints.update(viewer, input));
    return { endpoint: result ? await loaders.webhookEndpointById.load(result.endpointId) : null, userErrors };
  },
  rotateWebhookSecret: (_p, { input }, { viewer, services, loaders }) => withSecret(() => services.webhookEndpoints.rotateSecret(viewer, input), loaders),
  async deleteWebhookEndpoint(_p, { input }, { viewer, services }) {
    const { result, userErrors } = await toPayload('result', () => services.webhookEndpoints.delete(viewer, input));
    return { deletedEndpointId: result?.endpointId ?? null, userErrors };
  },
  async replayWebhookMessage(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.webhookEndpoints.replayMessage(viewer, input));
    return { message: result ? await loaders.webhookMessageById.load(result.messageId) : null, userErrors };
  },
  async replayWebhookMessages(_p, { input }, { viewer, services }) {
    const { result, userErrors } = await toPayload('result', () => services.webhookEndpoints.replaySince(viewer, input));
    return { replayed: result?.replayed ?? null, userErrors };
  },
};
