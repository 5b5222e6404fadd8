import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, Kind, visit, type DocumentNode, type OperationDefinitionNode, type ValueNode } from 'graphql';
import { ErrorCode } from './errors';

/**
 * C0 control characters other than tab, line feed and carriage return. NUL is the one that hurts
 * (PostgreSQL refuses it in text, so it used to surface as an internal error), but none of them
 * belongs in a name, a key, an email or a note. Tab and line breaks stay allowed everywhere at the
 * boundary because free-text fields (reasons, descriptions) legitimately hold them; a field that
 * must be one line says so in its own validation.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;

/** Half of a surrogate pair without its other half. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The first forbidden control character in `text`, or a lone UTF-16 surrogate (half of an emoji,
 * "\udfff" in JSON): not a character at all, it cannot be encoded as UTF-8, and PostgreSQL refuses
 * it in jsonb (a purchase's lines), which used to surface as an internal error. Null when the
 * text is fine.
 */
export function forbiddenControlCharacter(text: string): string | null {
  const match = FORBIDDEN.exec(text);
  if (match) return match[0];
  return LONE_SURROGATE.exec(text)?.[0] ?? null;
}

export interface ControlCharacterFinding {
  /** The argument path as fields are named in errors: "id", "basket.lines.0.sku" (a top-level `input` is left out, as in ids.ts). */
  field: string;
  character: string;
}

/**
 * Finds a forbidden control character in any string the operation passes as an argument: string
 * literals, and variable values (and variables' defaults) wherever they are used, inside lists and
 * input objects too. Needs no schema: every string an argument carries is either a String, an ID or
 * a custom string scalar (enums and numbers cannot hold one), so the rule covers every field and
 * every future subgraph without listing them.
 */
export function findControlCharacter(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  /** The document's text: when neither it nor the variables hold a suspect, the walk is skipped. */
  source?: string,
): ControlCharacterFinding | null {
  // The hot path: a few microseconds of regex and a walk of the variables, no AST visit. A literal
  // holds a control character only if the text does (raw, which graphql-js accepts inside quotes,
  // or as a \u escape); a variable only if its JSON value does.
  if (source !== undefined && !FORBIDDEN.test(source) && !LONE_SURROGATE.test(source) && !source.includes('\\u') && !(variables && findInJson(variables, '', 0))) {
    return null;
  }
  const defaults = new Map<string, ValueNode>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) defaults.set(definition.variable.name.value, definition.defaultValue);
  }

  const checkJson = findInJson;
  const checkNode = (node: ValueNode, path: string, depth: number): ControlCharacterFinding | null => {
    if (depth > 64) return null;
    switch (node.kind) {
      case Kind.STRING: {
        const character = forbiddenControlCharacter(node.value);
        return character ? { field: path, character } : null;
      }
      case Kind.LIST:
        for (let i = 0; i < node.values.length; i++) {
          const found = checkNode(node.values[i]!, join(path, String(i)), depth + 1);
          if (found) return found;
        }
        return null;
      case Kind.OBJECT:
        for (const field of node.fields) {
          const found = checkNode(field.value, join(path, field.name.value), depth + 1);
          if (found) return found;
        }
        return null;
      case Kind.VARIABLE: {
        const name = node.name.value;
        if (variables && Object.hasOwn(variables, name)) return checkJson(variables[name], path, depth + 1);
        const fallback = defaults.get(name);
        return fallback ? checkNode(fallback, path, depth + 1) : null;
      }
      default:
        return null;
    }
  };

  let found: ControlCharacterFinding | null = null;
  // The chosen operation and the fragments (other operations in the document do not run).
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION && definition !== operation) continue;
    visit(definition, {
      Argument(argument) {
        if (found) return false;
        const name = argument.name.value;
        const finding = checkNode(argument.value, name === 'input' ? '' : name, 0);
        // A string straight in `input` (not an object) is named by the argument itself.
        if (finding) found = { ...finding, field: finding.field || name };
        return false;
      },
    });
    if (found) return found;
  }
  return null;
}

function findInJson(value: unknown, path: string, depth: number): ControlCharacterFinding | null {
  if (depth > 64) return null;
  if (typeof value === 'string') {
    const character = forbiddenControlCharacter(value);
    return character ? { field: path, character } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findInJson(value[i], join(path, String(i)), depth + 1);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = findInJson(item, join(path, key), depth + 1);
      if (found) return found;
    }
  }
  return null;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** The error a caller gets: BAD_USER_INPUT naming the field, HTTP 400 (nothing ran). */
export function controlCharacterError({ field, character }: ControlCharacterFinding): GraphQLError {
  const codePoint = `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  const what = !LONE_SURROGATE.test(character) ? `a control character (${codePoint})` : `half of a UTF-16 surrogate pair (${codePoint}), which is not text`;
  return new GraphQLError(`${field} contains ${what}; only tab, line feed and carriage return are allowed in text`, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, field, http: { status: 400 } },
  });
}

/**
 * Refuses an operation whose arguments carry a forbidden control character before anything runs.
 * Installed by the gateway (so the caller hears it at the edge) and by the subgraph kit (so every
 * subgraph, present and future, refuses it whoever calls it).
 */
export function controlCharacterPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request, source }) {
          if (!operation) return;
          const finding = findControlCharacter(document, operation, request.variables, source);
          if (finding) throw controlCharacterError(finding);
        },
      };
    },
  };
}
