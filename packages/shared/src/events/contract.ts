import type { EntityManager } from 'typeorm';
import { type z } from 'zod';
import type { EventEnvelope } from './envelope';
import type { EventHandler } from './consumer';
import { emitEvents } from './outbox';

/**
 * Typed event contracts: one module per producer (`packages/shared/src/contracts/`) names each
 * event, its payload (a zod schema: the TypeScript type and the runtime check come from one
 * place), its version, its aggregate and when it is emitted. Producers emit through `emit`,
 * consumers receive parsed payloads through `consume`, and docs/events.md is generated from the
 * contracts, so the three cannot drift apart.
 *
 * Versioning: adding an optional field keeps the version; removing or changing a field is a new
 * version, and the producer keeps emitting the old one until its consumers moved.
 */
export interface EventDefinition<TPayload extends z.ZodObject = z.ZodObject> {
  version: number;
  /** When the producer emits it, in words (the catalogue in docs/events.md). */
  emittedWhen: string;
  /** What the aggregate id is (events are ordered per aggregate): a member, or a partner for partners' own facts. */
  aggregateType: 'Member' | 'Partner';
  payload: TPayload;
  /** The aggregate the event belongs to, taken from the payload so emitters cannot get it wrong. */
  aggregateId(payload: z.output<TPayload>): string;
}

export interface EventContract<TEvents extends Record<string, EventDefinition> = Record<string, EventDefinition>> {
  /** The subgraph that produces these events. */
  producer: string;
  events: TEvents;
  /** A note for the catalogue that holds for every event of the producer. */
  note?: string;
}

/** Declares one event; the payload type is inferred from its schema. */
export function defineEvent<TPayload extends z.ZodObject>(definition: EventDefinition<TPayload>): EventDefinition<TPayload> {
  return definition;
}

// The definitions' payload types differ per event; `any` here only erases them for the record's
// constraint, while each event keeps its own exact type in TEvents.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function defineContract<TEvents extends Record<string, EventDefinition<any>>>(producer: string, events: TEvents, note?: string): EventContract<TEvents> {
  return { producer, events, ...(note ? { note } : {}) };
}

export type EventTypeOf<C extends EventContract> = keyof C['events'] & string;
export type PayloadOf<C extends EventContract, K extends EventTypeOf<C>> = z.output<C['events'][K]['payload']>;
/** An event of contract C as a consumer receives it. */
export type ContractEvent<C extends EventContract, K extends EventTypeOf<C>> = EventEnvelope<PayloadOf<C, K>>;
/** What a producer hands to `emit`: the type and its payload. */
export type EmittedEvent<C extends EventContract> = { [K in EventTypeOf<C>]: { type: K; payload: PayloadOf<C, K> } }[EventTypeOf<C>];

/**
 * The one way producers write events: inside their transaction, checked against the contract
 * (a payload that does not match throws before anything commits), at the contract's version.
 */
export async function emit<C extends EventContract>(tx: EntityManager, contract: C, events: EmittedEvent<C>[], at: Date): Promise<void> {
  await emitEvents(
    tx,
    events.map(({ type, payload }) => {
      const definition = definitionOf(contract, type);
      // Strict here (a producer declares every field it sends), lenient when consumed (an older
      // consumer ignores optional fields added since).
      const checked = strictPayload(definition).parse(payload);
      return { aggregateType: definition.aggregateType, aggregateId: definition.aggregateId(checked), type, version: definition.version, payload: checked };
    }),
    at,
  );
}

/**
 * Each event's strict schema, made once: zod compiles a schema on its first parse, so deriving
 * `.strict()` on every emit cost ~60 µs per event where a kept one costs under 1 µs.
 */
const strictPayloads = new WeakMap<EventDefinition, z.ZodObject>();
function strictPayload(definition: EventDefinition): z.ZodObject {
  let strict = strictPayloads.get(definition);
  if (!strict) strictPayloads.set(definition, (strict = definition.payload.strict()));
  return strict;
}

function definitionOf(contract: EventContract, type: string): EventDefinition {
  const definition = contract.events[type];
  if (!definition) throw new Error(`${contract.producer} has no event ${type} in its contract`);
  return definition;
}

export type ContractHandlers<C extends EventContract> = { [K in EventTypeOf<C>]?: (tx: EntityManager, event: ContractEvent<C, K>) => Promise<void> };

/** A subgraph's reading of one producer's events: what it handles, and how. */
export interface Consumption {
  contract: EventContract;
  /** Untyped from here on: every handler already parses its payload against the contract. */
  handlers: Record<string, EventHandler>;
  /**
   * Types whose handlers lock several aggregates' rows (a referral bonus locks two members): each
   * applies in a transaction of its own, so locks are never held across events in an order others
   * do not follow.
   */
  soloTypes: string[];
  /** What applying these events does, in words (the catalogue in docs/events.md). */
  does: string;
}

/**
 * Typed handlers for a producer's events. Each event's payload is parsed against the contract
 * before its handler runs: a payload that does not match, or a version newer than this consumer
 * knows, fails the event (it is retried, then dead-lettered for an operator) instead of being
 * half-understood.
 */
export function consume<C extends EventContract>(contract: C, handlers: ContractHandlers<C>, options: { does: string; solo?: boolean }): Consumption {
  const typed: Record<string, EventHandler> = {};
  for (const [type, handler] of Object.entries(handlers) as [string, EventHandler | undefined][]) {
    if (!handler) continue;
    const definition = definitionOf(contract, type);
    typed[type] = async (tx, event) => {
      if (event.version > definition.version) {
        throw new Error(`${type} version ${event.version} is newer than this consumer knows (${definition.version}); upgrade it, then replay`);
      }
      await handler(tx, { ...event, payload: definition.payload.parse(event.payload) });
    };
  }
  return { contract, handlers: typed, soloTypes: options.solo ? Object.keys(typed) : [], does: options.does };
}

/** Several readings of one producer (the subgraph's own and a mounted projection's) as one: handlers of one type run in turn. */
export function mergeConsumptions(consumptions: Consumption[]): Consumption[] {
  const byProducer = new Map<string, Consumption>();
  for (const consumption of consumptions) {
    const producer = consumption.contract.producer;
    const seen = byProducer.get(producer);
    if (!seen) {
      byProducer.set(producer, { ...consumption, handlers: { ...consumption.handlers }, soloTypes: [...consumption.soloTypes] });
      continue;
    }
    for (const [type, handler] of Object.entries(consumption.handlers)) {
      const before = seen.handlers[type];
      seen.handlers[type] = before
        ? async (tx, event) => {
            await before(tx, event);
            await handler(tx, event);
          }
        : handler;
    }
    seen.soloTypes = [...new Set([...seen.soloTypes, ...consumption.soloTypes])];
    seen.does = `${seen.does}; ${consumption.does}`;
  }
  return [...byProducer.values()];
}
