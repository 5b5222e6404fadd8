import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Kind, visit, type DocumentNode, type OperationDefinitionNode, type ValueNode } from 'graphql';
import { ErrorCode } from './errors';

/**
 * Where a variable is used, as an argument path named the way ids.ts and the control-character
 * check name fields ("memberId", "basket.lines.0.amount"; a top-level `input` is left out).
 * Empty for `input: $v` itself; null when the operation does not use it as an argument.
 */
export function argumentPathOfVariable(document: DocumentNode, operation: OperationDefinitionNode, variable: string): string | null {
  const inValue = (node: ValueNode, path: string): string | null => {
    if (node.kind === Kind.VARIABLE) return node.name.value === variable ? path : null;
    if (node.kind === Kind.LIST) {
      for (let i = 0; i < node.values.length; i++) {
        const found = inValue(node.values[i]!, join(path, String(i)));
        if (found !== null) return found;
      }
    }
    if (node.kind === Kind.OBJECT) {
      for (const field of node.fields) {
        const found = inValue(field.value, join(path, field.name.value));
        if (found !== null) return found;
      }
    }
    return null;
  };
  let found: string | null = null;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION && definition !== operation) continue;
    visit(definition, {
      Argument(argument) {
        if (found !== null) return false;
        const name = argument.name.value;
        const path = inValue(argument.value, name === 'input' ? '' : name);
        if (path !== null) found = path;
        return false;
      },
    });
    if (found !== null) return found;
  }
  return null;
}

/**
 * The field a variable coercion message points at, e.g. for
 * `Variable "$i" got invalid value "abc" at "i.basket.lines[0].amount"; Decimal must be …` the
 * variable `i` and the path `basket.lines.0.amount` inside it; a missing or unknown input field
 * named in the message ("Field \"memberId\" of required type …") is appended.
 */
export function variableErrorLocation(message: string): { variable: string; path: string[] } | null {
  const head = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" /.exec(message);
  if (!head) return null;
  const variable = head[1]!;
  const at = new RegExp(` at "${variable}((?:\\.[_0-9A-Za-z]+|\\[\\d+\\])*)"; `).exec(message);
  const path = at ? at[1]!.split(/[.[\]]+/).filter(Boolean) : [];
  const inner = /; Field "([_A-Za-z][_0-9A-Za-z]*)" (?:of required type|is not defined by type)/.exec(message);
  if (inner) path.push(inner[1]!);
  return { variable, path };
}

/**
 * graphql-js refuses a malformed variable (a Decimal "abc", a missing required field) with
 * BAD_USER_INPUT and a message, but no field a form could point at. This names it, as the argument
 * path ids.ts and the control-character check use, so every BAD_USER_INPUT carries `field`.
 * Runs on formatted errors, after masking: it only adds a hint, never changes what is shown.
 */
export function variableErrorFieldPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, document, operation }) {
          if (response.body.kind !== 'single' || !document || !operation) return;
          for (const error of response.body.singleResult.errors ?? []) {
            const extensions = error.extensions as Record<string, unknown> | undefined;
            if (!extensions || extensions['code'] !== ErrorCode.BAD_USER_INPUT || extensions['field']) continue;
            const location = variableErrorLocation(error.message);
            if (!location) continue;
            const base = argumentPathOfVariable(document, operation, location.variable) ?? location.variable;
            // The whole `input` (a required variable left out) has no field inside it to name.
            extensions['field'] = [base, ...location.path].filter(Boolean).join('.') || 'input';
          }
        },
      };
    },
  };
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
