import {
  defaultFieldResolver,
  isObjectType,
  Kind,
  type GraphQLFieldConfig,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { forbidden, unauthenticated } from './errors';
import { STAFF_ROLES, type StaffRole, type Viewer } from './viewer';

/**
 * Every subgraph declares, next to each field, who may call it:
 *
 *   directive @access(allow: [String!]!, scopes: [String!]) on FIELD_DEFINITION
 *   type Query { member(id: ID!): Member @access(allow: ["MEMBER", "AGENT", "ADMIN"]) }
 *   type Mutation { recordPurchase(…): … @access(allow: ["PARTNER", "AGENT"], scopes: ["purchases:write"]) }
 *
 * (A String list rather than an enum so the rule vocabulary does not leak into the public API
 * schema. Federation's own @authenticated/@requiresScopes are refused by @apollo/gateway.)
 *
 * The directive is the coarse gate (which kinds of caller); ownership rules (a member sees only
 * themself, staff only their program) are policy code in each subgraph.
 *
 * `scopes` restrict partner API clients only: a PARTNER viewer passes when `allow` lets partners
 * in and its key holds every listed scope. Other kinds are not restricted by them (staff have
 * roles, members own their data): the scopes are what an operator granted one partner key, the
 * narrowest credential in the graph.
 */
export const ACCESS_RULES = ['PUBLIC', 'MEMBER', 'PARTNER', 'SERVICE', ...STAFF_ROLES] as const;
export type AccessRule = (typeof ACCESS_RULES)[number];

/** What an operator can grant a partner API client (the partners subgraph issues keys with these). */
export const PARTNER_SCOPES = ['members:lookup', 'purchases:write', 'purchases:read', 'offers:write', 'settlement:read', 'webhooks:manage', 'members:enroll'] as const;
export type PartnerScope = (typeof PARTNER_SCOPES)[number];

export const ACCESS_DIRECTIVE_SDL = 'directive @access(allow: [String!]!, scopes: [String!]) on FIELD_DEFINITION';

export interface ViewerContext {
  viewer: Viewer;
  requestId: string;
}

/** Federation's own entry points; entity resolvers apply their own policy per representation. */
const FEDERATION_FIELDS = new Set(['_service', '_entities']);

/** Whether `viewer` may call a field declared `@access(allow: rules, scopes)`. */
export function allows(viewer: Viewer, rules: readonly AccessRule[], scopes: readonly PartnerScope[] = []): boolean {
  if (viewer.kind === 'PARTNER' && !hasScopes(viewer, scopes)) return false;
  return rules.some((rule) => {
    switch (rule) {
      case 'PUBLIC':
        return true;
      case 'MEMBER':
        return viewer.kind === 'MEMBER';
      case 'PARTNER':
        return viewer.kind === 'PARTNER';
      case 'SERVICE':
        return viewer.kind === 'SERVICE';
      default:
        return viewer.kind === 'STAFF' && viewer.roles.includes(rule);
    }
  });
}

/** A partner key holding every one of `scopes` (policy code asks this for ownership rules too). */
export function hasScopes(viewer: Viewer, scopes: readonly string[]): boolean {
  return scopes.every((scope) => viewer.scopes.includes(scope));
}

/** Throws UNAUTHENTICATED for anonymous callers and FORBIDDEN for the rest. */
export function assertAllowed(viewer: Viewer, rules: readonly AccessRule[], scopes: readonly PartnerScope[] = []): void {
  if (allows(viewer, rules, scopes)) return;
  if (viewer.kind === 'ANONYMOUS') throw unauthenticated();
  // A partner in the right kind but without the scope is told which: it is their operator's grant to change.
  const missing = viewer.kind === 'PARTNER' && rules.includes('PARTNER') ? scopes.filter((s) => !viewer.scopes.includes(s)) : [];
  throw forbidden(missing.length ? `This API key lacks the scope ${missing.join(', ')}` : undefined);
}

interface FieldAccess {
  rules: AccessRule[];
  scopes: PartnerScope[];
}

function accessOf(field: GraphQLField<unknown, unknown>): FieldAccess | null {
  const directive = field.astNode?.directives?.find((d) => d.name.value === 'access');
  if (!directive) return null;
  const arg = directive.arguments?.find((a) => a.name.value === 'allow');
  if (!arg || arg.value.kind !== Kind.LIST) throw new Error(`@access on ${field.name} needs allow: [..]`);
  const rules = arg.value.values.map((value) => {
    if (value.kind !== Kind.STRING || !(ACCESS_RULES as readonly string[]).includes(value.value)) {
      throw new Error(`@access on ${field.name}: unknown rule; use one of ${ACCESS_RULES.join(', ')}`);
    }
    return value.value as AccessRule;
  });
  const scopesArg = directive.arguments?.find((a) => a.name.value === 'scopes');
  if (!scopesArg) return { rules, scopes: [] };
  if (scopesArg.value.kind !== Kind.LIST) throw new Error(`@access on ${field.name}: scopes must be a list`);
  // A misspelt scope would lock every partner out of the field (no key could hold it): fail the build.
  const scopes = scopesArg.value.values.map((value) => {
    if (value.kind !== Kind.STRING || !(PARTNER_SCOPES as readonly string[]).includes(value.value)) {
      throw new Error(`@access on ${field.name}: unknown scope; use one of ${PARTNER_SCOPES.join(', ')}`);
    }
    return value.value as PartnerScope;
  });
  if (scopes.length > 0 && !rules.includes('PARTNER')) throw new Error(`@access on ${field.name}: scopes restrict partners only, but allow has no PARTNER`);
  return { rules, scopes };
}

/**
 * Wraps every field that carries @access with a check that runs before its resolver. Root
 * fields without @access make the build fail: forgetting to declare access must not mean
 * "open to everyone".
 */
export function applyAccessControl(schema: GraphQLSchema): GraphQLSchema {
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(Boolean));
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const access = accessOf(field);
      if (!access) {
        if (roots.has(type) && !FEDERATION_FIELDS.has(field.name)) {
          throw new Error(`${type.name}.${field.name} has no @access directive: declare who may call it`);
        }
        continue;
      }
      const resolve = field.resolve ?? defaultFieldResolver;
      const guarded: GraphQLFieldConfig<unknown, ViewerContext>['resolve'] = (source, args, context, info) => {
        assertAllowed(context.viewer, access.rules, access.scopes);
        return resolve(source, args, context, info);
      };
      field.resolve = guarded as typeof field.resolve;
    }
  }
  return schema;
}

/** Staff who may act in the given program: its own staff, or platform operators (no program). */
export function isStaffOf(viewer: Viewer, programId: string, roles: readonly StaffRole[]): boolean {
  if (viewer.kind !== 'STAFF') return false;
  if (!viewer.roles.some((r) => roles.includes(r))) return false;
  // Staff without a program are platform operators: only ADMINs may be that.
  return viewer.programId === null ? viewer.roles.includes('ADMIN') : viewer.programId === programId;
}

/** Platform operators run the deployment: staff with ADMIN and no program of their own. */
export function isOperator(viewer: Viewer): boolean {
  return viewer.kind === 'STAFF' && viewer.programId === null && viewer.roles.includes('ADMIN');
}
