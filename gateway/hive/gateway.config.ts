/**
 * Hive Gateway in front of our subgraphs (see gateway/src/hive-plugin.ts and the README's
 * production section). From the repository root:
 *
 *   INTERNAL_TOKEN_SECRET=… JWKS_URL=https://idp/.well-known/jwks.json JWT_ISSUER=… JWT_AUDIENCE=… \
 *     pnpm exec hive-gateway supergraph supergraph.prod.graphql -c gateway/hive/gateway.config.ts \
 *     [--hive-router-runtime]      # the Rust query planner (@graphql-hive/router-runtime)
 *
 * Never `--jit` with the Rust planner: Hive Gateway 2.15 then answers null without calling the
 * subgraphs.
 */
import { defineConfig } from '@graphql-hive/gateway';
import { loyaltyGraphHiveConfig } from '../src/hive-plugin';

export const gatewayConfig = defineConfig({
  ...loyaltyGraphHiveConfig(process.env),
});
