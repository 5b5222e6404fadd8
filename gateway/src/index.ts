export { createAuthenticator, createRequestAuthenticator, viewerFromClaims, type Authenticate, type AuthenticateRequest, type AuthenticatedCaller, type AuthOptions, type Credentials, type RequestAuthOptions } from './auth';
export {
  cachePartnerGrants,
  createPartnerKeyResolver,
  PARTNER_KEY_PATTERN,
  partnerBudget,
  partnerViewer,
  type GrantCacheOptions,
  type PartnerGrant,
  type PartnerKeyResolverOptions,
  type ResolvePartnerKey,
} from './partner-keys';
export { claimAt, DEFAULT_CLAIMS, type ClaimNames } from './claims';
export { GatewayEnv } from './env';
export { createDevTokenIssuer, type DevTokenIssuer } from './dev-tokens';
export { partnersSubgraphUrl, startGateway, type GatewayOptions, type RunningGateway } from './server';
export * from './limits';
export { edgeFromEnv, type EdgeAuth } from './edge';
export { createRouterCoprocessor, startRouterCoprocessor, type CoprocessorRequest, type CoprocessorResponse } from './router-coprocessor';
