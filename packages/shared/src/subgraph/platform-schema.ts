/**
 * The platform's part of every subgraph's schema: federation link, the @access directive,
 * scalars, money, user errors, page info and the operators' view of delivery and jobs. The
 * subgraph kit joins it to each subgraph's own schema.graphql (which holds only its own types),
 * so these types have exactly one definition; the composed supergraph.graphql shows them all.
 * A TypeScript string rather than a .graphql file: it then travels inside every service bundle.
 */
export const PLATFORM_SDL = /* GraphQL */ `
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@inaccessible", "@override"])

"""
Who may call a field: any of PUBLIC, MEMBER, PARTNER, SERVICE, ADMIN, AGENT, FULFILMENT, ANALYST.
\`scopes\` (members:lookup, purchases:write, purchases:read, offers:write, settlement:read,
webhooks:manage, members:enroll) restrict partner API clients only: a PARTNER passes with every listed scope; other
kinds are not restricted by them. Enforced by the subgraph; ownership (a member sees only themself,
staff only their program, a partner its own purchases) is checked on top by each subgraph's policy code.
"""
directive @access(allow: [String!]!, scopes: [String!]) on FIELD_DEFINITION

"An instant as an ISO-8601 string in UTC."
scalar DateTime
"""
An exact decimal number as a string, e.g. "12.50": at most 18 integer and 8 fractional digits,
never a float. It comes back with the decimals it was given ("50.50" stays "50.50").
"""
scalar Decimal
"A whole number that may exceed 32 bits (program-wide aggregates, feed positions), as a decimal string."
scalar BigInt

"A sum of money: an exact decimal amount and its ISO 4217 currency."
type Money @shareable {
  """
  Always with the currency's ISO 4217 decimals (EUR "50.50", JPY "1500", KWD "1.250"); a
  rate such as a point's value may carry more when they are not zeros ("0.005").
  """
  amount: Decimal!
  "ISO 4217 code, e.g. EUR."
  currency: String!
}

"A sum of money as input: an exact decimal amount and its ISO 4217 currency."
input MoneyInput {
  "Each field that takes money says how many decimals it accepts."
  amount: Decimal!
  "ISO 4217 code, e.g. EUR."
  currency: String!
}

"Where a page of a connection ends."
type PageInfo @shareable {
  hasNextPage: Boolean!
  "Pass as \`after\` to get the next page."
  endCursor: String
}

"An expected business failure: the request was valid, the answer is no."
type UserError @shareable {
  "Machine-readable, e.g. IDENTIFIER_TAKEN."
  code: String!
  "The input field it concerns, as a dotted path, when there is one."
  field: String
  message: String!
}

"What an operator's replay of a dead letter asks for."
input ReplayDeadLetterInput {
  id: ID!
  "Give up on the event instead (it must never apply); the events parked behind it are then replayed."
  discard: Boolean
}

type ReplayDeadLetterPayload @shareable {
  "Events applied, the dead letter included."
  replayed: Int!
  "The dead letter that failed again, if one did (it and those after it stay open)."
  failed: DeadLetter
  userErrors: [UserError!]!
}

enum JobOutcome {
  OK
  FAILED
}

"A recurring job of this subgraph: when it runs next and how its last run went."
type ScheduledJob @shareable {
  name: String!
  everySeconds: Int!
  nextRunAt: DateTime!
  lastStartedAt: DateTime
  lastFinishedAt: DateTime
  lastOutcome: JobOutcome
  "How much the last run did (rows posted, members evaluated…)."
  lastResult: Int
  lastError: String
}

"One subgraph's event delivery and scheduled jobs."
type SubgraphOperations @shareable {
  subgraph: String!
  jobs: [ScheduledJob!]!
  "The events this subgraph produces; null when it produces none."
  outbox: OutboxStatus
  "Other subgraphs' events this one applies."
  consumers: [EventConsumerStatus!]!
  "Open dead letters (FAILED, and PARKED behind them), oldest first, at most 100."
  deadLetters: [DeadLetter!]!
}

"A producer's outbox: events are numbered (given a feed position) once committed."
type OutboxStatus @shareable {
  "The newest position; consumers are caught up when they reach it."
  head: BigInt!
  "Committed events not numbered yet (numbering runs whenever a consumer polls)."
  unsequenced: Int!
  oldestUnsequencedAt: DateTime
}

"A consumer of another subgraph's events."
type EventConsumerStatus @shareable {
  name: String!
  producer: String!
  "The last position applied."
  position: BigInt!
  "The producer's newest position at the last poll."
  head: BigInt!
  "Events behind the producer (head − position)."
  lag: BigInt!
  lastPolledAt: DateTime
  "Why the last poll failed, until one succeeds."
  lastError: String
  "Events that failed every retry and wait for an operator."
  deadLetters: Int!
  "Later events of the same aggregates, held back to keep their order."
  parked: Int!
}

enum DeadLetterState {
  "Failed every retry."
  FAILED
  "Waiting behind a failed event of the same aggregate."
  PARKED
  REPLAYED
  DISCARDED
}

"An event a consumer could not apply, kept whole for inspection and replay."
type DeadLetter @shareable {
  id: ID!
  consumer: String!
  eventId: ID!
  eventType: String!
  aggregateId: ID!
  position: BigInt!
  state: DeadLetterState!
  attempts: Int!
  error: String
  "The event's payload as JSON."
  payload: String!
  createdAt: DateTime!
  updatedAt: DateTime!
}
`;
