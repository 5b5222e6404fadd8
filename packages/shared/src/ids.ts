import {
  defaultFieldResolver,
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { badUserInput } from './errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every entity id in the graph is a UUID. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

type Check = (value: unknown, path: string) => void;

/** Builds a checker for one input type, or null when it holds no ID anywhere. */
function checkerFor(type: GraphQLInputType, seen = new Set<string>()): Check | null {
  if (isNonNullType(type)) return checkerFor(type.ofType, seen);
  if (isListType(type)) {
    const inner = checkerFor(type.ofType, seen);
    return inner && ((value, path) => Array.isArray(value) && value.forEach((item, i) => inner(item, `${path}.${i}`)));
  }
  const named = getNamedType(type);
  if (named.name === 'ID') {
    return (value, path) => {
      if (value != null && !isUuid(value)) throw badUserInput(`${path} is not a valid id`, path);
    };
  }
  if (!isInputObjectType(named) || seen.has(named.name)) return null;
  seen.add(named.name);
  const fields = Object.values(named.getFields())
    .map((field) => [field.name, checkerFor(field.type, seen)] as const)
    .filter((entry): entry is readonly [string, Check] => entry[1] !== null);
  seen.delete(named.name);
  if (fields.length === 0) return null;
  return (value, path) => {
    if (value == null || typeof value !== 'object') return;
    for (const [name, check] of fields) check((value as Record<string, unknown>)[name], path ? `${path}.${name}` : name);
  };
}

/**
 * Rejects malformed ids in arguments (including inside input objects) with BAD_USER_INPUT naming
 * the field, before any resolver or SQL sees them: "abc" is the caller's mistake, not a 500.
 */
export function applyIdValidation(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const checks = field.args
        .map((arg) => [arg.name, checkerFor(arg.type)] as const)
        .filter((entry): entry is readonly [string, Check] => entry[1] !== null);
      if (checks.length === 0) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args: Record<string, unknown>, context, info) => {
        // Inputs are reported relative to the argument's contents ("memberId", "input.memberId" → "memberId").
        for (const [name, check] of checks) check(args[name], name === 'input' ? '' : name);
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}
