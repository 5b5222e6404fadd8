import { GraphQLError, getNullableType, isScalarType, isSpecifiedScalarType, Kind, type ASTNode, type ASTVisitor, type GraphQLScalarType, type ValueNode, type ValidationContext } from 'graphql';
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
    const check = (
      node: ValueNode,
      _key: unknown,
      parent: ASTNode | readonly ASTNode[] | undefined,
      path: readonly (string | number)[],
      ancestors: readonly (ASTNode | readonly ASTNode[])[],
    ): false | undefined => {
      const report = (message: string) => {
        // graphql-js leaves the parent out of `ancestors`; with it, container i holds key path[i].
        const field = parent ? argumentPath(path, [...ancestors, parent]) : null;
        context.reportError(new GraphQLError(message, { nodes: [node], extensions: field ? { field } : {} }));
      };
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
          report(error instanceof Error ? error.message : `Not a valid ${nullable.name}`);
        }
        return false;
      }
      if (node.kind === Kind.LIST || node.kind === Kind.OBJECT) {
        report(`${nullable.name} cannot be a list or an object`);
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

/**
 * The argument path of the value being visited ("basket.lines.0.amount"; a top-level `input` is
 * left out, as everywhere else), from the visitor's ancestors: the last Argument, then every
 * object field and list index below it.
 */
function argumentPath(path: readonly (string | number)[], ancestors: readonly (ASTNode | readonly ASTNode[])[]): string | null {
  let start = -1;
  for (let i = ancestors.length - 1; i >= 0; i--) {
    const ancestor = ancestors[i]!;
    if (!Array.isArray(ancestor) && (ancestor as ASTNode).kind === Kind.ARGUMENT) {
      start = i;
      break;
    }
  }
  if (start < 0) return null;
  const argument = ancestors[start] as { name: { value: string } };
  const segments: string[] = argument.name.value === 'input' ? [] : [argument.name.value];
  for (let i = start + 1; i < ancestors.length; i++) {
    const ancestor = ancestors[i]!;
    if (Array.isArray(ancestor)) {
      const owner = ancestors[i - 1];
      if (owner && !Array.isArray(owner) && (owner as ASTNode).kind === Kind.LIST) segments.push(String(path[i]));
    } else if ((ancestor as ASTNode).kind === Kind.OBJECT_FIELD) {
      segments.push((ancestor as { name: { value: string } }).name.value);
    }
  }
  return segments.join('.') || argument.name.value;
}
