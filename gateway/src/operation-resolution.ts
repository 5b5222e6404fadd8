import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ErrorCode } from '@loyalty-graph/shared';
import { GraphQLError, Kind, type ASTVisitor, type ValidationContext } from 'graphql';

/**
 * A document with several operations and no `operationName`, or an `operationName` it does not
 * hold, is the caller's mistake: HTTP 400 with OPERATION_RESOLUTION_FAILURE, as Apollo Server
 * answers without a gateway and as GraphQL over HTTP asks. With a gateway, Apollo Server hands the
 * unresolved operation to @apollo/gateway, whose executor throws, and the caller got a 500
 * INTERNAL_SERVER_ERROR. Refusing it once the operation is resolved (or not) keeps it from there.
 */
export function operationResolutionPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request }) {
          if (operation) return;
          const count = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length;
          const message = request.operationName
            ? `Unknown operation named "${request.operationName}"`
            : count > 1
              ? 'The document holds several operations: say which to run in operationName'
              : 'The document holds no operation';
          throw new GraphQLError(message, { extensions: { code: ErrorCode.OPERATION_RESOLUTION_FAILURE, http: { status: 400 } } });
        },
      };
    },
  };
}

/**
 * Refuses an operation of a type the graph has no root for (a subscription: the graph has none),
 * as graphql-js 17's KnownOperationTypesRule does. graphql-js 16 leaves it to execution, where
 * @apollo/gateway throws and the caller got a 500 INTERNAL_SERVER_ERROR; as a validation error it
 * is a 400 GRAPHQL_VALIDATION_FAILED.
 */
export function knownOperationTypes() {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const schema = context.getSchema();
      const root = node.operation === 'query' ? schema.getQueryType() : node.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
      if (!root) context.reportError(new GraphQLError(`This graph does not support ${node.operation} operations`, { nodes: [node] }));
    },
  });
}
