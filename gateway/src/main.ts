import { readFileSync } from 'node:fs';
import { corsConfigFromEnv, createLogger, exitOnError, onShutdown, parseEnv, parseServiceList } from '@loyalty-graph/shared';
import { createAuthenticator } from './auth';
import { GatewayEnv } from './env';
import { limitsFromEnv } from './limits';
import { startGateway } from './server';

async function main(): Promise<void> {
  const env = parseEnv(GatewayEnv);
  const logger = createLogger('gateway', env.LOG_LEVEL);
  const production = env.NODE_ENV === 'production';
  const gateway = await startGateway(
    {
      ...(production && env.SUPERGRAPH_PATH
        ? { supergraphSdl: readFileSync(env.SUPERGRAPH_PATH, 'utf8') }
        : { subgraphs: parseServiceList(env.SUBGRAPHS ?? '') }),
      authenticate: createAuthenticator({ issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, secret: env.JWT_SECRET, jwksUrl: env.JWKS_URL, claims: env.claims }),
      internalSecret: env.INTERNAL_TOKEN_SECRET,
      logger,
      development: !production,
      apolloTelemetry: env.APOLLO_TELEMETRY === 'on',
      warmUp: (env.GATEWAY_WARM_UP ?? (production ? 'on' : 'off')) === 'on' ? { maxMs: env.GATEWAY_WARM_UP_MS } : false,
      cors: corsConfigFromEnv(env.CORS_ORIGINS, production),
      limits: limitsFromEnv(env),
      subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS,
    },
    env.PORT,
  );
  onShutdown(logger, () => gateway.stop());
}

main().catch(exitOnError);
