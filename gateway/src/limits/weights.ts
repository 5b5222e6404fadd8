import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '@loyalty-graph/shared';

/**
 * The cost model, in one place (docs/limits.md explains it). A cost is an estimate of the work an
 * operation makes the graph do, computed from the document before anything runs: roughly "how many
 * objects could this resolve", with writes weighted higher. The numbers are ours, in the spirit of
 * Shopify's calculated query cost and the IBM/Apollo demand-control model.
 */
export interface CostWeights {
  /** Every object (or interface/union) field resolved: one per object. */
  object: number;
  /** Scalars and enums: free, they come with the object that holds them. */
  leaf: number;
  /** Added per root field of a mutation: a transaction, locks, events. */
  mutation: number;
  /** `__schema` / `__type`: a flat price, their subtree is not walked (introspection is off in production). */
  introspection: number;
  /**
   * Lists paginated by an argument: the requested page size multiplies what is inside, capped at
   * the server's maximum (a larger value is refused by the subgraph anyway), the default when absent.
   */
  pagination: { argument: string; defaultSize: number; maxSize: number };
  /**
   * Lists without a page-size argument (a member's identifiers, a tier's benefits): their assumed
   * length, unless `listSizes` says otherwise.
   */
  assumedListSize: number;
  /** Assumed lengths by `Type.field`, or `*.field` for a field of any type. */
  listSizes: Readonly<Record<string, number>>;
  /** Bulk fields by `Type.field`: priced by the length of a list in their arguments. */
  bulk: Readonly<Record<string, BulkWeight>>;
}

/**
 * A field that does work per item of an input list (`recordPurchases`: a transaction per line).
 * Each item adds `perItem` whatever the field returns; the field's report lists (`reports`, by
 * `Type.field`: one report line per input line) are sized by the same length instead of assumed.
 */
export interface BulkWeight {
  /** Where the list is: the argument, then input fields (`['input', 'lines']`). */
  path: readonly string[];
  perItem: number;
  /** The most items the field accepts: a longer list is the subgraph's to refuse, priced at this. */
  maxItems: number;
  reports: readonly string[];
}

export const DEFAULT_WEIGHTS: CostWeights = Object.freeze({
  object: 1,
  leaf: 0,
  mutation: 10,
  introspection: 100,
  pagination: { argument: 'first', defaultSize: DEFAULT_PAGE_SIZE, maxSize: MAX_PAGE_SIZE },
  assumedListSize: 10,
  listSizes: Object.freeze({
    // A payload's userErrors are empty when the mutation succeeds, a few when it does not.
    '*.userErrors': 2,
    // A journal entry has a debit and a credit line, a split one a few more.
    'JournalEntry.lines': 3,
    // The schema documents these ceilings; the real lists are much shorter, but a caller can fill them.
    'Member.referrals': 20,
    'SubgraphOperations.deadLetters': 100,
  }),
  bulk: Object.freeze({
    // A line is a transaction (key, member lock, journal entry, outbox, purchase): a fifth of a
    // mutation's 10, since the call's request, authentication, member look-up and snapshot read are
    // shared by its lines. A full call with its report costs about 5,000: half a partner's bucket.
    'Mutation.recordPurchases': Object.freeze({ path: ['input', 'lines'], perItem: 2, maxItems: 1000, reports: ['RecordPurchasesPayload.lines'] }),
  }),
});

/**
 * Per-operation limits (GraphQL Armor's defaults for aliases and directives), and the ceiling on an
 * operation's cost: no single request may cost more than this whatever the caller's budget.
 */
export interface OperationLimits {
  maxCost: number;
  /**
   * The ceiling of an operation with a bulk field instead of `maxCost`: a full 1,000-line
   * `recordPurchases` must fit. Still never more than the caller's whole budget.
   */
  maxBulkCost: number;
  maxAliases: number;
  maxDirectives: number;
  /** Lexical tokens in the document, enforced by the parser before anything else. */
  maxTokens: number;
}

export const DEFAULT_OPERATION_LIMITS: OperationLimits = Object.freeze({
  maxCost: 2000,
  maxBulkCost: 6000,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 2000,
});

/** Who a budget belongs to. Partners arrive with partner keys; their budget is ready for them. */
export type CallerKind = 'anonymous' | 'member' | 'staff' | 'partner';

/** A token bucket: `capacity` points, refilled at `restoreRate` points per second. */
export interface BudgetPolicy {
  capacity: number;
  restoreRate: number;
}

/**
 * Generous enough for real screens and a busy till (a member dashboard costs ~100, an agent's
 * purchase ~20), far from what a script hammering the graph needs. Anonymous budgets are keyed by
 * client address, so one office behind a NAT shares one: still ten dashboards' worth a second.
 */
export const DEFAULT_BUDGETS: Readonly<Record<CallerKind, BudgetPolicy>> = Object.freeze({
  anonymous: { capacity: 1000, restoreRate: 50 },
  member: { capacity: 2000, restoreRate: 100 },
  staff: { capacity: 10000, restoreRate: 500 },
  partner: { capacity: 10000, restoreRate: 500 },
});
