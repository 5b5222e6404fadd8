import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { controlCharacterPlugin, customScalarLiterals, variableErrorFieldPlugin } from '@loyalty-graph/shared';
import { knownOperationTypes, operationResolutionPlugin } from './operation-resolution';

/**
 * What the gateway adds so a caller's mistake is answered as theirs (README, Errors), in one place
 * so server.ts wires it with a line each.
 */
export function edgeErrorPlugins<TContext extends BaseContext>(): ApolloServerPlugin<TContext>[] {
  return [operationResolutionPlugin(), controlCharacterPlugin(), variableErrorFieldPlugin()];
}

export function edgeValidationRules() {
  return [customScalarLiterals(), knownOperationTypes()];
}
