import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { createLogger, envFields, exitOnError, onShutdown, parseEnv, parseServiceList } from '@loyalty-graph/shared';
import { createAuthenticator } from './auth';
import { startGateway } from './server';

const Env = z
  .object({
    PORT: envFields.port(4000),
    NODE_ENV: envFields.nodeEnv,
    LOG_LEVEL: envFields.logLevel,
    INTERNAL_TOKEN_SECRET: envFields.internalSecret,
    /** Development: `members=http://127.0.0.1:4001/graphql,ledger=…`, composed at start. */
    SUBGRAPHS: z.string().optional(),
    /** Production: path to the committed supergraph.graphql. */
    SUPERGRAPH_PATH: z.string().optional(),
    JWT_ISSUER: z.string().default('loyalty-graph-dev'),
    JWT_AUDIENCE: z.string().default('loyalty-graph'),
    JWT_SECRET: z.string().min(32).optional(),
    JWKS_URL: z.url().optional(),
    /** Opt in to @apollo/gateway's usage metrics sent to Apollo (off by default). */
    APOLLO_TELEMETRY: z.enum(['on', 'off']).default('off'),
    /** How long a subgraph may stay silent before its part of an answer is SUBGRAPH_TIMEOUT. */
    SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  })
  .refine((env) => env.SUBGRAPHS || env.SUPERGRAPH_PATH, { message: 'set SUBGRAPHS (development) or SUPERGRAPH_PATH (production)' })
  .refine((env) => env.JWT_SECRET || env.JWKS_URL, { message: 'set JWKS_URL (production) or JWT_SECRET (development)' });

async function main(): Promise<void> {
  const env = parseEnv(Env);
  const logger = createLogger('gateway', env.LOG_LEVEL);
  const production = env.NODE_ENV === 'production';
  const gateway = await startGateway(
    {
      ...(production && env.SUPERGRAPH_PATH
        ? { supergraphSdl: readFileSync(env.SUPERGRAPH_PATH, 'utf8') }
        : { subgraphs: parseServiceList(env.SUBGRAPHS ?? '') }),
      authenticate: createAuthenticator({ issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, secret: env.JWT_SECRET, jwksUrl: env.JWKS_URL }),
      internalSecret: env.INTERNAL_TOKEN_SECRET,
      logger,
      development: !production,
      apolloTelemetry: env.APOLLO_TELEMETRY === 'on',
      subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS,
    },
    env.PORT,
  );
  onShutdown(logger, () => gateway.stop());
}

main().catch(exitOnError);
