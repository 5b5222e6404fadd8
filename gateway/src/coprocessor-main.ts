/**
 * The Apollo Router coprocessor as a service (`node gateway/dist/coprocessor.mjs`, built by
 * `pnpm build`): run it next to the router, which calls it at the RouterRequest stage
 * (docs/deployment.md). Same environment as the gateway's authentication, plus PORT and HOST.
 */
import { z } from 'zod';
import { createLogger, envFields, exitOnError, onShutdown, parseEnv } from '@loyalty-graph/shared';
import { edgeFromEnv } from './edge';
import { startRouterCoprocessor } from './router-coprocessor';

const Env = z.object({
  PORT: envFields.port(4090),
  // Beside the router (same host or pod): nobody else should be able to mint viewers through it.
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: envFields.logLevel,
});

async function main(): Promise<void> {
  const env = parseEnv(Env);
  const edge = edgeFromEnv(process.env);
  const logger = createLogger('router-coprocessor', env.LOG_LEVEL);
  const { url, server } = await startRouterCoprocessor(edge, env.PORT, env.HOST);
  logger.info('coprocessor listening', { url });
  onShutdown(logger, () => new Promise<void>((resolve) => server.close(() => resolve())));
}

main().catch(exitOnError);
