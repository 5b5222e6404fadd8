import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { BulkWeight, CostWeights } from './weights';

/**
 * The calculated cost of one operation, before execution: pure, no I/O, no HTTP (unit tested on
 * its own). Fragments are expanded where they are spread, so a fragment used twice counts twice,
 * like the fields it stands for; every aliased field counts on its own, since each alias is
 * another execution of its resolver.
 */
export interface OperationAnalysis {
  cost: number;
  /** Aliased fields, fragments expanded. */
  aliases: number;
  /** Directive uses, fragments expanded, on the operation itself included. */
  directives: number;
  /**
   * The variables the cost depends on: a page size (`n`), or the length of a list inside one
   * (`input/lines#length`). A cached analysis is reused only for the same values.
   */
  variables: string[];
  /**
   * The part of the cost that input sizes set (a bulk field's items × its per-item weight): work
   * done whatever the answer, so the actual cost keeps it.
   */
  sized: number;
  /** Whether a bulk field is in it (its ceiling is then `maxBulkCost`). */
  bulk: boolean;
}

interface Totals {
  cost: number;
  aliases: number;
  directives: number;
}

const ZERO: Totals = Object.freeze({ cost: 0, aliases: 0, directives: 0 });

export function analyzeOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
  weights: CostWeights,
): OperationAnalysis {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const variableDefaults = new Map<string, unknown>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) variableDefaults.set(definition.variable.name.value, valueFromASTUntyped(definition.defaultValue));
  }
  const usedVariables = new Set<string>();
  // A fragment spread many times (or fragments spreading each other twice, level after level)
  // would make a naive walk exponential: each fragment is priced once per type and list context.
  const fragmentTotals = new Map<string, Totals>();
  let sized = 0;
  let bulk = false;

  /** The length of the list at `path` in a field's arguments (literal or variable at any level); null when it is not a list. */
  const lengthAt = (value: ValueNode, path: readonly string[]): number | null => {
    if (value.kind === Kind.VARIABLE) {
      const name = value.name.value;
      const key = `${[name, ...path].join('/')}#length`;
      usedVariables.add(key);
      return variableLength(variables, key) ?? variableLength(Object.fromEntries(variableDefaults), key);
    }
    if (path.length === 0) return value.kind === Kind.LIST ? value.values.length : null;
    if (value.kind !== Kind.OBJECT) return null;
    const field = value.fields.find((f) => f.name.value === path[0]);
    return field ? lengthAt(field.value, path.slice(1)) : null;
  };

  /** A bulk field's items, capped at what it accepts; unknown (not a list) priced at the cap, erring on the expensive side. */
  const bulkItems = (field: FieldNode, weight: BulkWeight): number => {
    const [argumentName, ...path] = weight.path;
    const argument = field.arguments?.find((a) => a.name.value === argumentName);
    const length = argument ? lengthAt(argument.value, path) : null;
    return Math.min(length ?? weight.maxItems, weight.maxItems);
  };

  const pageSize = (field: FieldNode, definition: GraphQLField<unknown, unknown>): number | null => {
    if (!definition.args.some((a) => a.name === weights.pagination.argument)) return null;
    const argument = field.arguments?.find((a) => a.name.value === weights.pagination.argument);
    if (!argument) return weights.pagination.defaultSize;
    let value: unknown;
    if (argument.value.kind === Kind.VARIABLE) {
      const name = argument.value.name.value;
      usedVariables.add(name);
      value = variables?.[name] ?? variableDefaults.get(name);
    } else {
      value = valueFromASTUntyped(argument.value);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) return weights.pagination.defaultSize;
    // Out of range is the subgraph's to refuse; priced at the ceiling it can never exceed.
    return Math.min(Math.max(Math.ceil(value), 1), weights.pagination.maxSize);
  };

  /** `reports`: report lists sized by a bulk field's input, for the selection inside that field. */
  const listSize = (parent: GraphQLCompositeType, field: string, reports: ReadonlyMap<string, number> | null): number =>
    reports?.get(`${parent.name}.${field}`) ?? weights.listSizes[`${parent.name}.${field}`] ?? weights.listSizes[`*.${field}`] ?? weights.assumedListSize;

  /**
   * `sliced` is the page size a paginated parent (a connection field with `first`) passes to the
   * lists directly inside it (`edges`, `nodes`).
   */
  const walk = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, sliced: number | null, seen: readonly string[], reports: ReadonlyMap<string, number> | null = null): Totals => {
    let cost = 0;
    let aliases = 0;
    let directives = 0;
    for (const selection of selectionSet.selections) {
      directives += selection.directives?.length ?? 0;
      if (selection.kind === Kind.FIELD) {
        if (selection.alias) aliases += 1;
        const name = selection.name.value;
        if (name === '__typename') continue;
        if (name === '__schema' || name === '__type') {
          cost += weights.introspection;
          continue;
        }
        const definition = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
        if (!definition) continue; // unknown fields are refused by validation; never priced
        const type = getNamedType(definition.type);
        if (!isCompositeType(type)) {
          cost += weights.leaf;
          continue;
        }
        const isList = isListType(getNullableType(definition.type));
        const page = pageSize(selection, definition);
        const size = isList ? (page ?? sliced ?? listSize(parent, name, reports)) : 1;
        // A bulk field: its items' work, and its report lists sized by them.
        const bulkWeight = weights.bulk[`${parent.name}.${name}`];
        let innerReports = reports;
        if (bulkWeight) {
          const items = bulkItems(selection, bulkWeight);
          bulk = true;
          sized += items * bulkWeight.perItem;
          cost += items * bulkWeight.perItem;
          innerReports = new Map(bulkWeight.reports.map((report) => [report, items]));
        }
        // A connection field passes its page size to the lists inside; a paginated list uses it itself.
        const inner = selection.selectionSet ? walk(selection.selectionSet, type, isList ? null : page, seen, innerReports) : ZERO;
        cost += size * (weights.object + inner.cost);
        aliases += inner.aliases;
        directives += inner.directives;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (!condition || !isCompositeType(condition)) continue;
        const inner = walk(selection.selectionSet, condition, sliced, seen, reports);
        cost += inner.cost;
        aliases += inner.aliases;
        directives += inner.directives;
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || seen.includes(name)) continue; // unknown or cyclic: refused by validation
        const condition = schema.getType(fragment.typeCondition.name.value);
        if (!condition || !isCompositeType(condition)) continue;
        // A fragment inside a bulk field may hold its report list: its sizes are part of the key.
        const key = `${name}|${sliced ?? ''}|${reports ? JSON.stringify([...reports]) : ''}`;
        let inner = fragmentTotals.get(key);
        if (!inner) {
          const own = walk(fragment.selectionSet, condition, sliced, [...seen, name], reports);
          inner = { ...own, directives: own.directives + (fragment.directives?.length ?? 0) };
          fragmentTotals.set(key, inner);
        }
        cost += inner.cost;
        aliases += inner.aliases;
        directives += inner.directives;
      }
    }
    return { cost, aliases, directives };
  };

  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) return { cost: 0, aliases: 0, directives: operation.directives?.length ?? 0, variables: [], sized: 0, bulk: false };
  const totals = walk(operation.selectionSet, root, null, []);
  let cost = totals.cost;
  if (operation.operation === 'mutation') cost += weights.mutation * countRootFields(operation.selectionSet, fragments, []);
  return {
    cost,
    aliases: totals.aliases,
    directives: totals.directives + (operation.directives?.length ?? 0),
    variables: [...usedVariables].sort(),
    sized,
    bulk,
  };
}

/**
 * A variable's value for the cache key and the price: `n` is the variable itself,
 * `input/lines#length` the length of the list at that path inside it (null when not a list).
 */
function variableValue(variables: Readonly<Record<string, unknown>> | undefined, key: string): unknown {
  if (!key.endsWith('#length')) return variables?.[key] ?? null;
  return variableLength(variables, key);
}

function variableLength(variables: Readonly<Record<string, unknown>> | undefined, key: string): number | null {
  const [name, ...path] = key.slice(0, -'#length'.length).split('/');
  let value: unknown = variables?.[name!];
  for (const step of path) value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[step] : undefined;
  return Array.isArray(value) ? value.length : null;
}

/** Root fields of a mutation, fragments expanded: each one is its own transaction. */
function countRootFields(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, seen: readonly string[]): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (!selection.name.value.startsWith('__')) count += 1;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countRootFields(selection.selectionSet, fragments, seen);
    } else {
      const fragment = fragments.get(selection.name.value);
      if (fragment && !seen.includes(fragment.name.value)) count += countRootFields(fragment.selectionSet, fragments, [...seen, fragment.name.value]);
    }
  }
  return count;
}

/**
 * Analyses are cached per parsed document (Apollo Server keeps one parsed document per query
 * string, so a repeated operation is priced once) and per values of the variables that set page
 * sizes. Most operations read none, and are priced once per document.
 */
export class CostCache {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, { variables: string[]; byValues: Map<string, OperationAnalysis> }>>();

  constructor(private readonly weights: CostWeights) {}

  analyze(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>> | undefined): OperationAnalysis {
    let byOperation = this.byDocument.get(document);
    if (!byOperation) this.byDocument.set(document, (byOperation = new Map()));
    const operationKey = operation.name?.value ?? '';
    const entry = byOperation.get(operationKey);
    if (entry) {
      const valuesKey = entry.variables.length ? JSON.stringify(entry.variables.map((v) => variableValue(variables, v))) : '';
      const hit = entry.byValues.get(valuesKey);
      if (hit) return hit;
    }
    const analysis = analyzeOperation(schema, document, operation, variables, this.weights);
    const valuesKey = analysis.variables.length ? JSON.stringify(analysis.variables.map((v) => variableValue(variables, v))) : '';
    const slot = entry ?? { variables: analysis.variables, byValues: new Map<string, OperationAnalysis>() };
    // A page size is one of a hundred values, a bulk call's length one of a thousand: a bound keeps the map small.
    if (slot.byValues.size >= 256) slot.byValues.clear();
    slot.byValues.set(valuesKey, analysis);
    byOperation.set(operationKey, slot);
    return analysis;
  }
}

/**
 * What an operation actually cost, from the data it returned (Shopify's actualQueryCost): the same
 * weights, but lists count the items they returned. A page of 100 members that held 3 costs 3
 * members; an object field that came back null (not found, refused) still costs 1, it was looked for.
 * Fields selected several times under one response key (in the operation and in fragments) are one
 * field here, as GraphQL executed them. The walk follows a plan built once per operation (the
 * fields of each selection, merged by response key), so pricing a response touches only its data.
 */
export function actualCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  data: Readonly<Record<string, unknown>> | null | undefined,
  weights: CostWeights,
): number {
  if (!data) return 0;
  let plan = plans.get(operation);
  if (!plan) {
    const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
    if (!root) return 0;
    plan = new SelectionPlan(schema, fragmentsOf(document), [operation.selectionSet], root);
    plans.set(operation, plan);
  }
  let cost = plan.cost(data, weights);
  if (operation.operation === 'mutation') {
    // A mutation that ran (its key is in the data, even null: it was attempted) pays its weight.
    for (const field of plan.fields(undefined)) if (!field.meta && field.key in data) cost += weights.mutation;
  }
  return cost;
}

const plans = new WeakMap<OperationDefinitionNode, SelectionPlan>();

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return fragments;
}

interface PlannedField {
  key: string;
  /** __typename, __schema, __type */
  meta: boolean;
  introspection: boolean;
  /** The object selection inside; null for scalars and enums. */
  child: SelectionPlan | null;
}

/** The fields of some merged selection sets on one parent type, by response key (GraphQL's CollectFields). */
class SelectionPlan {
  /** By __typename on abstract parents (fragments on a member type apply to it only); '' otherwise. */
  private readonly byTypename = new Map<string, PlannedField[]>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: Map<string, FragmentDefinitionNode>,
    private readonly selectionSets: readonly SelectionSetNode[],
    private readonly parent: GraphQLCompositeType,
  ) {}

  cost(value: Readonly<Record<string, unknown>>, weights: CostWeights): number {
    let cost = 0;
    for (const field of this.fields(value['__typename'])) {
      if (field.meta) {
        if (field.introspection) cost += weights.introspection;
      } else if (field.child) {
        cost += field.child.valueCost(value[field.key], weights);
      }
    }
    return cost;
  }

  private valueCost(value: unknown, weights: CostWeights): number {
    if (value === undefined) return 0; // skipped, never resolved
    // A null object was still looked for (and refused, or not found): it costs what an object does.
    if (value === null || typeof value !== 'object') return weights.object;
    if (Array.isArray(value)) {
      let sum = 0;
      for (const item of value) sum += this.valueCost(item, weights);
      return sum;
    }
    return weights.object + this.cost(value as Record<string, unknown>, weights);
  }

  fields(typename: unknown): PlannedField[] {
    const abstract = !isObjectType(this.parent);
    const planKey = abstract && typeof typename === 'string' ? typename : '';
    let fields = this.byTypename.get(planKey);
    if (fields) return fields;
    const byKey = new Map<string, FieldNode[]>();
    const applies = (condition: string | undefined) => {
      if (!condition || condition === this.parent.name || !abstract || !planKey) return true;
      const type = this.schema.getType(condition);
      const concrete = this.schema.getType(planKey);
      if (!type || !concrete || !isObjectType(concrete)) return true;
      return type === concrete || (!isObjectType(type) && isCompositeType(type) && this.schema.isSubType(type as never, concrete));
    };
    const seen = new Set<string>();
    const collect = (selectionSet: SelectionSetNode) => {
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const key = selection.alias?.value ?? selection.name.value;
          const nodes = byKey.get(key);
          if (nodes) nodes.push(selection);
          else byKey.set(key, [selection]);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          if (applies(selection.typeCondition?.name.value)) collect(selection.selectionSet);
        } else {
          const fragment = this.fragments.get(selection.name.value);
          if (!fragment || seen.has(fragment.name.value) || !applies(fragment.typeCondition.name.value)) continue;
          seen.add(fragment.name.value);
          collect(fragment.selectionSet);
        }
      }
    };
    for (const selectionSet of this.selectionSets) collect(selectionSet);
    fields = [];
    for (const [key, nodes] of byKey) {
      const name = nodes[0]!.name.value;
      if (name.startsWith('__')) {
        fields.push({ key, meta: true, introspection: name === '__schema' || name === '__type', child: null });
        continue;
      }
      const definition = isObjectType(this.parent) || isInterfaceType(this.parent) ? this.parent.getFields()[name] : undefined;
      if (!definition) continue;
      const type = getNamedType(definition.type);
      const child = isCompositeType(type) ? new SelectionPlan(this.schema, this.fragments, nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : [])), type) : null;
      fields.push({ key, meta: false, introspection: false, child });
    }
    // On an abstract parent each concrete type gets its own plan: a bounded set (the schema's types).
    this.byTypename.set(planKey, fields);
    return fields;
  }
}
