import { readFileSync } from 'node:fs';
import { Kind, parse } from 'graphql';

/**
 * The description of every input field in a subgraph's schema.graphql, as `Type.field`: what each
 * subgraph's limits-documented test holds its LIMITS against (a bound changed in code and not in
 * the docs fails it).
 */
export function inputFieldDescriptions(schemaFile: URL): Map<string, string> {
  const out = new Map<string, string>();
  for (const definition of parse(readFileSync(schemaFile, 'utf8')).definitions) {
    if (definition.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
      for (const field of definition.fields ?? []) out.set(`${definition.name.value}.${field.name.value}`, field.description?.value ?? '');
    }
  }
  return out;
}
