import { unwrapResolverError } from '@apollo/server/errors';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode, PUBLIC_ERROR_CODES, PUBLIC_ERROR_EXTENSIONS } from './errors';
import type { Logger } from './logger';

interface RequestIdContext extends BaseContext {
  requestId: string;
}

/**
 * Errors we did not raise on purpose (bugs, database failures) are logged with the request id and
 * replaced by a generic message carrying that id, so a support agent can find the log line and
 * the client learns nothing about our internals.
 */
export function maskInternalError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = formatted.extensions?.['code'];
  if (typeof code === 'string' && PUBLIC_ERROR_CODES.has(code)) {
    // Strip anything but the code and the public hints (field, service, retryable); stack traces
    // and a subgraph's serviceName never leave the service.
    const extensions: Record<string, unknown> = { code };
    for (const key of PUBLIC_ERROR_EXTENSIONS) {
      const value = formatted.extensions?.[key];
      if (value !== undefined && value !== null && value !== '') extensions[key] = value;
    }
    return { ...formatted, extensions };
  }
  const refused = valueRefusedByDatabase(error);
  if (refused) return { message: refused, locations: formatted.locations, path: formatted.path, extensions: { code: ErrorCode.BAD_USER_INPUT } };
  return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}

/** Logs the original of every error that will be masked, and stamps the request id on it. */
export function errorLoggingPlugin(logger: Logger): ApolloServerPlugin<RequestIdContext> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async didEncounterErrors({ errors, operationName }) {
          for (const error of errors) {
            const code = error.extensions?.['code'];
            if (code === ErrorCode.SUBGRAPH_UNAVAILABLE || code === ErrorCode.SUBGRAPH_TIMEOUT) {
              // Public (the caller learns which part is missing), but operators must hear of it.
              logger.warn('subgraph failed', { requestId: contextValue.requestId, operationName, code, service: error.extensions?.['service'], path: error.path });
              continue;
            }
            if (typeof code === 'string' && PUBLIC_ERROR_CODES.has(code)) continue;
            logger.error('request failed', {
              requestId: contextValue.requestId,
              operationName,
              path: error.path,
              error: unwrapResolverError(error),
            });
          }
        },
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          for (const error of response.body.singleResult.errors ?? []) {
            if (error.extensions?.['code'] === ErrorCode.INTERNAL_SERVER_ERROR) {
              (error.extensions as Record<string, unknown>)['requestId'] = contextValue.requestId;
            }
          }
        },
      };
    },
  };
}

/**
 * PostgreSQL data exceptions that only a value the caller sent can cause: a number, text or date
 * beyond what its column holds. Domain validation should refuse such a value first, naming the
 * field and the documented bound; when one slips through, the caller still learns it was their
 * value (BAD_USER_INPUT), not our failure. The original is logged like any masked error.
 */
const DATABASE_VALUE_REFUSALS: Record<string, string> = {
  '22003': 'A number is larger than this field can store',
  '22001': 'A text is longer than this field can store',
  '22008': 'A date is outside the range this field can store',
  '22021': 'A text holds characters that cannot be stored',
  '22P05': 'A text holds characters that cannot be stored',
};

function valueRefusedByDatabase(error: unknown): string | null {
  // The resolver's error, under the GraphQLError(s) that wrap it.
  let original: unknown = error;
  for (let depth = 0; original instanceof GraphQLError && original.originalError && depth < 3; depth++) original = original.originalError;
  const failed = original as { driverError?: { code?: unknown }; code?: unknown } | null;
  const code = failed?.driverError?.code ?? failed?.code;
  return typeof code === 'string' ? (DATABASE_VALUE_REFUSALS[code] ?? null) : null;
}
