import { GraphQLError, getNullableType, isScalarType, isSpecifiedScalarType, Kind, type ASTVisitor, type GraphQLScalarType, type ValueNode, type ValidationContext } from 'graphql';
import { scalarResolvers } from './scalars';

const KNOWN: Record<string, GraphQLScalarType> = scalarResolvers;

/**
 * The gateway's schema comes from the supergraph, where our custom scalars (Decimal, DateTime,
 * BigInt) have no parser: graphql-js then accepts any literal for them, lists and objects
 * included, and leaves the refusal to the subgraph. On the way there @apollo/gateway's query
 * planner walks every argument literal with `collectVariablesInValue`, which visits an array's
 * items twice (as an array, then as an object's keys): 2^depth steps, so 25 nested brackets at a
 * Decimal cost 5 s of gateway CPU and 60 never finish, from one anonymous request of 130 bytes.
 *
 * This rule runs our own scalar parsers on literals at the gateway (the same refusal, with the same
 * message, the subgraph would give, before planning) and refuses a list or object literal at any
 * other custom scalar.
 */
export function customScalarLiterals() {
  return (context: ValidationContext): ASTVisitor => {
    const check = (node: ValueNode): false | undefined => {
      // TypeInfo has already moved to the item type when a list is entered: its position is the parent.
      const type = node.kind === Kind.LIST ? context.getParentInputType() : context.getInputType();
      if (!type) return undefined;
      const nullable = getNullableType(type);
      if (!isScalarType(nullable) || isSpecifiedScalarType(nullable)) return undefined;
      const known = KNOWN[nullable.name];
      if (known) {
        try {
          known.parseLiteral(node, undefined);
        } catch (error) {
          context.reportError(new GraphQLError(error instanceof Error ? error.message : `Not a valid ${nullable.name}`, { nodes: [node] }));
        }
        return false;
      }
      if (node.kind === Kind.LIST || node.kind === Kind.OBJECT) {
        context.reportError(new GraphQLError(`${nullable.name} cannot be a list or an object`, { nodes: [node] }));
        return false;
      }
      return undefined;
    };
    return {
      ListValue: check,
      ObjectValue: check,
      StringValue: check,
      IntValue: check,
      FloatValue: check,
      BooleanValue: check,
      EnumValue: check,
    };
  };
}
