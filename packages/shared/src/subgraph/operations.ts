import type { DataSource } from 'typeorm';
import { isOperator } from '../access';
import { DomainError, forbidden } from '../errors';
import { toPayload } from '../payload';
import type { ViewerContext } from '../access';
import type { Viewer } from '../viewer';
import type { JobState, Scheduler } from '../jobs';
import { consumerStatuses, deadLetters, type ConsumerStatus, type DeadLetter, type DeadLetterState, type EventConsumer, type ReplayOutcome } from '../events';

/** The producer side, as operators see it: how far numbering got and what waits to be numbered. */
export interface OutboxStatus {
  head: bigint;
  unsequenced: number;
  oldestUnsequencedAt: Date | null;
}

/** One subgraph's delivery and jobs, in the shape of the SubgraphOperations type every subgraph's schema declares. */
export interface SubgraphOperations {
  subgraph: string;
  jobs: JobState[];
  outbox: OutboxStatus | null;
  consumers: ConsumerStatusView[];
  deadLetters: DeadLetterView[];
}

/** A consumer as the EventConsumerStatus GraphQL type shows it (positions may pass 2^31). */
export type ConsumerStatusView = Omit<ConsumerStatus, 'position' | 'head' | 'lag'> & { position: bigint; head: bigint; lag: bigint };

/** A dead letter as the DeadLetter GraphQL type shows it. */
export type DeadLetterView = Omit<DeadLetter, 'position' | 'event'> & { position: bigint; payload: string };

function view({ event, ...letter }: DeadLetter): DeadLetterView {
  return { ...letter, position: BigInt(letter.position), payload: JSON.stringify(event.payload) };
}

export interface OperationsSources {
  subgraph: string;
  db: DataSource;
  scheduler: Scheduler;
  /** Whether this subgraph produces events (has an outbox). */
  producer: boolean;
  consumers: EventConsumer[];
}

const OPEN: DeadLetterState[] = ['FAILED', 'PARKED'];

/** Delivery and jobs run for every program at once: they are the platform operators' business. */
function assertOperator(viewer: Viewer): void {
  if (!isOperator(viewer)) throw forbidden('Only platform operators see event delivery and jobs');
}

async function subgraphOperations(viewer: Viewer, sources: OperationsSources): Promise<SubgraphOperations> {
  assertOperator(viewer);
  const consumers = sources.consumers.length ? await consumerStatuses(sources.db, sources.consumers.map((c) => c.name)) : [];
  const letters = sources.consumers.length ? await deadLetters(sources.db, { states: OPEN, limit: 100 }) : [];
  return {
    subgraph: sources.subgraph,
    jobs: await sources.scheduler.states(),
    outbox: sources.producer ? await outboxStatus(sources.db) : null,
    consumers: consumers.map((c) => ({ ...c, position: BigInt(c.position), head: BigInt(c.head), lag: BigInt(c.lag) })),
    deadLetters: letters.map(view),
  };
}

async function outboxStatus(db: DataSource): Promise<OutboxStatus> {
  const [row] = (await db.query(
    `SELECT (SELECT coalesce(max(position), 0) FROM outbox)::text AS head,
            (SELECT count(*) FROM outbox WHERE position IS NULL)::int AS unsequenced,
            (SELECT min(created_at) FROM outbox WHERE position IS NULL) AS "oldestUnsequencedAt"`,
  )) as [{ head: string; unsequenced: number; oldestUnsequencedAt: Date | null }];
  return { head: BigInt(row.head), unsequenced: row.unsequenced, oldestUnsequencedAt: row.oldestUnsequencedAt };
}

/** The replayDeadLetter mutations' payload. */
async function replayDeadLetterPayload(viewer: Viewer, sources: OperationsSources, input: { id: string; discard?: boolean | null }) {
  assertOperator(viewer);
  const { outcome, userErrors } = await toPayload('outcome', () => replayDeadLetter(sources.consumers, sources.db, input.id, input.discard ?? false));
  return { replayed: outcome?.replayed ?? 0, failed: outcome?.failed ? view(outcome.failed) : null, userErrors };
}

/** An operator's replay (or discard) of a dead letter, routed to the consumer that owns it. */
async function replayDeadLetter(consumers: EventConsumer[], db: DataSource, id: string, discard: boolean): Promise<ReplayOutcome> {
  const [letter] = await deadLetters(db, { id });
  const consumer = letter && consumers.find((c) => c.name === letter.consumer);
  if (!letter || !consumer) throw new DomainError('DEAD_LETTER_NOT_FOUND', 'No such dead letter in this subgraph', 'id');
  if (!OPEN.includes(letter.state)) throw new DomainError('DEAD_LETTER_CLOSED', `The dead letter was already ${letter.state}`, 'id');
  return discard ? consumer.discard(id) : consumer.replay(id);
}

const capitalised = (name: string) => name[0]!.toUpperCase() + name.slice(1);

/** The operators' root fields of a subgraph, named after it so each is unique in the supergraph. */
export function operationsFieldNames(subgraph: string) {
  return { query: `${subgraph}Operations`, replay: `replay${capitalised(subgraph)}DeadLetter` };
}

/**
 * The operators' fields the kit adds to a subgraph's schema: its delivery and jobs, and (when it
 * consumes events) the replay of a dead letter. Their types are in the platform SDL.
 */
export function operationsSdl(subgraph: string, options: { consumes: boolean; extendQuery: boolean; extendMutation: boolean }): string {
  const names = operationsFieldNames(subgraph);
  const query = `${options.extendQuery ? 'extend ' : ''}type Query {
  "The ${subgraph} subgraph's event delivery and jobs (platform operators)."
  ${names.query}: SubgraphOperations! @access(allow: ["ADMIN"])
}`;
  const mutation = `${options.extendMutation ? 'extend ' : ''}type Mutation {
  "Apply a dead-lettered event of the ${subgraph} subgraph again (after a fix), then those parked behind it (platform operators)."
  ${names.replay}(input: ReplayDeadLetterInput!): ReplayDeadLetterPayload! @access(allow: ["ADMIN"])
}`;
  return options.consumes ? `${query}\n\n${mutation}\n` : `${query}\n`;
}

/** Resolvers for the operators' fields and the platform types that need one. */
export function operationsResolvers(sources: OperationsSources, options: { replay: boolean }) {
  const names = operationsFieldNames(sources.subgraph);
  return {
    Query: { [names.query]: (_parent: unknown, _args: unknown, { viewer }: ViewerContext) => subgraphOperations(viewer, sources) },
    ...(options.replay
      ? {
          Mutation: {
            [names.replay]: (_parent: unknown, { input }: { input: { id: string; discard?: boolean | null } }, { viewer }: ViewerContext) =>
              replayDeadLetterPayload(viewer, sources, input),
          },
        }
      : {}),
    ScheduledJob: { everySeconds: (job: JobState) => Math.round(job.everyMs / 1000) },
  };
}
