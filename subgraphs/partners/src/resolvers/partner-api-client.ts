import type { PartnerApiClientResolvers } from '../generated/resolvers';
import { scopeName, type PartnerScopeName } from '../domain/scopes';

export const PartnerApiClient: PartnerApiClientResolvers = {
  // Reached only through Partner.apiClients or a mutation payload, both already checked.
  async partner(client, _args, { loaders }) {
    return (await loaders.partnerById.load(client.partnerId))!;
  },
  scopes: (client) => client.scopes.map(scopeName).filter((name): name is PartnerScopeName => name !== null),
  keys: (client, _args, { loaders }) => loaders.apiKeysByClient.load(client.id),
};
