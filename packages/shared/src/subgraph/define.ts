import { Kind, parse } from 'graphql';
import type { DataSource, EntitySchema, MixedList } from 'typeorm';
import type { ViewerContext } from '../access';
import type { Clock } from '../clock';
import { pingDatabase } from '../db';
import { EventConsumer, EventConsumers1764100000001, mergeConsumptions, Outbox1764100000000, OutboxFeed, processedEventsRetention, type Consumption, type EventContract } from '../events';
import { ScheduledJobs1764000000000, Scheduler, type SubgraphJob } from '../jobs';
import type { Logger } from '../logger';
import { batchedDirectory, membersReadThrough, memberSnapshotConsumption, MemberSnapshotConsents1796820000000, MemberSnapshotGroups1796700000000, MemberSnapshots1764400000000, MemberSnapshotSubjects1764600000000, snapshotDirectory, type MemberDirectory } from '../member-snapshots';
import { scalarResolvers } from '../scalars';
import { operationsResolvers, operationsSdl } from './operations';
import { PLATFORM_SDL } from './platform-schema';
import { membersIdentityReadThrough, rememberingFound, snapshotIdentity, type MemberIdentity } from './member-identity';
import { createPeerClient, type PeerClient } from './peer-client';
import { peerUrl, type SubgraphDeps, type SubgraphModule } from './service';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type EntityList = MixedList<Function | string | EntitySchema>;
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type MigrationList = (Function | string)[];

/** What the kit hands a subgraph to build its services with. */
export interface ServiceParts {
  db: DataSource;
  clock: Clock;
  logger: Logger;
  /** Facts about members (program, status, tier, groups) from the member-snapshot projection; see `memberSnapshots`. */
  members: MemberDirectory;
  /** A direct client for another subgraph, calling as this subgraph's service viewer. */
  peer(name: string): PeerClient;
}

/**
 * A subgraph as a declaration: only what is its own. `defineSubgraph` builds the rest the same way
 * for every subgraph (platform SDL, outbox and feed, consumers, retention, scheduler, the
 * operators' fields, readiness), and returns the `SubgraphModule` that `main.ts`, `pnpm dev`, the
 * tests, the benchmarks and composition all start.
 */
export interface SubgraphDefinition<TServices, TContext extends ViewerContext> {
  /** Lower case; names its database, its consumers (`<name>.<producer>-events`) and its operators' fields. */
  name: string;
  /** Its standard port (ARCHITECTURE.md). */
  port: number;
  /** Its own SDL (schema.graphql); the platform's types are joined by the kit. */
  schema: string;
  /** Its own resolvers (the codegen-typed `Resolvers`); the kit adds the platform's. */
  resolvers: object;
  /** TypeORM entities, for subgraphs that use repositories (see the README's rule). */
  entities?: EntityList;
  /** Its own migrations; the kit adds the platform's (jobs, outbox, consumers, snapshots) and TypeORM orders all by timestamp. */
  migrations: MigrationList;
  /** The contract of the events it produces: it then writes an outbox and serves a feed. */
  produces?: EventContract;
  /**
   * Keeps a projection of members' facts (program, status, tier, groups) in its own database, so it
   * knows members without calling the members subgraph; `members` in the service parts reads it.
   */
  memberSnapshots?: boolean;
  /**
   * Who a member token's subject enrolled as (member-identity.ts). Only members, which owns the
   * answer, gives its own; every other subgraph gets the kit's: its member snapshots with
   * read-through to members, or members alone when it keeps no snapshots.
   */
  memberIdentity?(services: TServices): MemberIdentity;
  /** Its services, built once and shared by every request (stateless). */
  services(parts: ServiceParts): TServices;
  /** The producers' events it applies, one `consume(contract, handlers)` per producer. */
  consumes?(services: TServices): Consumption[];
  /** Its recurring jobs (the kit adds event retention when it consumes). */
  jobs?(services: TServices): SubgraphJob[];
  /** The per-request context: loaders are created here, once per request. */
  context(base: ViewerContext, services: TServices, platform: PlatformParts): TContext;
}

/** What the kit hands the per-request context besides the subgraph's services. */
export interface PlatformParts {
  db: DataSource;
  clock: Clock;
  /** The subgraph's jobs, as operators see them. */
  scheduler: Scheduler;
}

const MEMBERS_UNAVAILABLE: MemberDirectory = async () => {
  throw new Error('this subgraph does not keep member snapshots (set memberSnapshots in its definition)');
};

export function defineSubgraph<TServices, TContext extends ViewerContext>(definition: SubgraphDefinition<TServices, TContext>): SubgraphModule<TContext> {
  const { name } = definition;
  const consumesAnything = Boolean(definition.consumes || definition.memberSnapshots);
  const migrations: MigrationList = [
    ...definition.migrations,
    ScheduledJobs1764000000000,
    ...(definition.produces ? [Outbox1764100000000] : []),
    ...(consumesAnything ? [EventConsumers1764100000001] : []),
    ...(definition.memberSnapshots ? [MemberSnapshots1764400000000, MemberSnapshotSubjects1764600000000, MemberSnapshotGroups1796700000000, MemberSnapshotConsents1796820000000] : []),
  ];
  const typeDefs = subgraphSdl(name, definition.schema, { consumes: consumesAnything });
  return {
    name,
    defaultPort: definition.port,
    typeDefs,
    database: { name, entities: definition.entities ?? [], migrations },
    ...(definition.produces ? { produces: definition.produces } : {}),
    create(deps: SubgraphDeps) {
      const { db, clock, logger } = deps;
      const members = definition.memberSnapshots
        ? snapshotDirectory(db, batchedDirectory(membersReadThrough(peerUrl(deps.peers, 'members'), name, deps.internalSecret)))
        : MEMBERS_UNAVAILABLE;
      const peer = (peerName: string) => createPeerClient(peerName, peerUrl(deps.peers, peerName), name, deps.internalSecret);
      const services = definition.services({ db, clock, logger, members, peer });
      const identityReadThrough = membersIdentityReadThrough(peerUrl(deps.peers, 'members'));
      const memberIdentity = rememberingFound(
        definition.memberIdentity?.(services) ?? (definition.memberSnapshots ? snapshotIdentity(db, identityReadThrough) : identityReadThrough),
        clock,
      );
      const consumptions = mergeConsumptions([...(definition.memberSnapshots ? [memberSnapshotConsumption()] : []), ...(definition.consumes?.(services) ?? [])]);
      const consumers = consumptions.map(
        ({ contract, handlers, soloTypes, does }) =>
          new EventConsumer({
            name: `${name}.${contract.producer}-events`,
            db,
            source: deps.events.source(contract.producer, name),
            handlers,
            soloTypes,
            does,
            clock,
            logger,
          }),
      );
      const jobs = [...(definition.jobs?.(services) ?? []), ...(consumers.length ? [processedEventsRetention(consumers, clock)] : [])];
      const scheduler = new Scheduler(db, clock, jobs, logger);
      const platformParts: PlatformParts = { db, clock, scheduler };
      const platform = operationsResolvers({ subgraph: name, db, scheduler, producer: Boolean(definition.produces), consumers }, { replay: consumesAnything });
      return {
        name,
        typeDefs,
        resolvers: joinResolvers({ ...scalarResolvers, ...platform }, definition.resolvers as Record<string, unknown>),
        context: (base: ViewerContext) => definition.context(base, services, platformParts),
        internalSecret: deps.internalSecret,
        logger,
        introspection: deps.introspection,
        memberIdentity,
        ready: () => pingDatabase(db),
        jobs,
        scheduler,
        ...(definition.produces ? { feed: new OutboxFeed({ producer: name, db, logger }) } : {}),
        consumers,
      };
    },
  };
}

/** The subgraph's whole SDL: the platform's, its own, and its operators' fields. */
export function subgraphSdl(name: string, ownSdl: string, options: { consumes: boolean }): string {
  const own = parse(ownSdl);
  const defines = (type: string) => own.definitions.some((d) => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === type);
  const operations = operationsSdl(name, { consumes: options.consumes, extendQuery: defines('Query'), extendMutation: defines('Mutation') });
  return `${PLATFORM_SDL.trim()}\n\n# --- ${name}'s own schema (subgraphs/${name}/schema.graphql) ---\n\n${ownSdl.trim()}\n\n# --- the operators' fields the subgraph kit adds ---\n\n${operations}`;
}

/**
 * Joins resolver maps type by type. A field resolved by both is an error at start, never a silent
 * winner (spreading maps would drop one without a word).
 */
export function joinResolvers(platform: Record<string, unknown>, own: Record<string, unknown>): Record<string, unknown> {
  const joined: Record<string, unknown> = { ...platform };
  for (const [type, resolvers] of Object.entries(own)) {
    const before = joined[type];
    if (before === undefined) {
      joined[type] = resolvers;
      continue;
    }
    if (!isPlainObject(before) || !isPlainObject(resolvers)) throw new Error(`${type} is resolved by the platform already; remove it from the subgraph's resolvers`);
    const clash = Object.keys(resolvers).find((field) => field in before);
    if (clash) throw new Error(`${type}.${clash} is resolved by the platform already; remove it from the subgraph's resolvers`);
    joined[type] = { ...before, ...resolvers };
  }
  return joined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
