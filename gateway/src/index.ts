export { createAuthenticator, viewerFromClaims, type Authenticate, type AuthOptions } from './auth';
export { claimAt, DEFAULT_CLAIMS, type ClaimNames } from './claims';
export { GatewayEnv } from './env';
export { createDevTokenIssuer, type DevTokenIssuer } from './dev-tokens';
export { startGateway, type GatewayOptions, type RunningGateway } from './server';
export * from './limits';
export { edgeFromEnv, type EdgeAuth } from './edge';
export { createRouterCoprocessor, startRouterCoprocessor, type CoprocessorRequest, type CoprocessorResponse } from './router-coprocessor';
