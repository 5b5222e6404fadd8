export { createAuthenticator, type Authenticate, type AuthOptions } from './auth';
export { createDevTokenIssuer, type DevTokenIssuer } from './dev-tokens';
export { startGateway, type GatewayOptions, type RunningGateway } from './server';
export { edgeFromEnv, type EdgeAuth } from './edge';
export { createRouterCoprocessor, startRouterCoprocessor, type CoprocessorRequest, type CoprocessorResponse } from './router-coprocessor';
