import { randomBytes } from 'node:crypto';
import { ManualClock, createLogger, serviceViewer, type CorsConfig } from '@loyalty-graph/shared';
import { createAuthenticator, createDevTokenIssuer, startGateway, type DevTokenIssuer, type GrantCacheOptions, type LimitsOptions, type ResolvePartnerKey } from '@loyalty-graph/gateway';
import { SUBGRAPHS } from '@loyalty-graph/supergraph';
import { bearer, caller, type Caller } from './client';
import { startTestSubgraph, type RunningSubgraph } from './subgraph';

/**
 * The whole supergraph in a test: the one entry of this package that imports the subgraphs and
 * the gateway (`@loyalty-graph/testing/supergraph`); the rest of the package serves any subgraph.
 */

export interface TestSupergraph {
  gatewayUrl: string;
  subgraphs: Record<string, RunningSubgraph>;
  clock: ManualClock;
  tokens: DevTokenIssuer;
  /** The development JWT secret the gateway trusts (for tests that craft unusual tokens). */
  jwt: { secret: string; issuer: string; audience: string };
  /** INTERNAL_TOKEN_SECRET shared by the gateway and the subgraphs (for another gateway in front of them). */
  internalSecret: string;
  anonymous: Caller;
  /** A caller presenting the given access token. */
  withToken(token: string): Caller;
  /** Callers for the usual roles. */
  asMember(programId: string, memberId: string | null, subject?: string): Promise<Caller>;
  asStaff(programId: string | null, roles: ('ADMIN' | 'AGENT' | 'FULFILMENT' | 'ANALYST')[], subject?: string): Promise<Caller>;
  /** A platform operator (ADMIN bound to no program). */
  asOperator(): Promise<Caller>;
  /**
   * Delivers every pending event to every consumer, again and again until nothing moves (a
   * ledger event can make members emit one the ledger consumes). Returns how many were read.
   */
  deliverEvents(): Promise<number>;
  /** Calls a subgraph directly as an internal service (e.g. seeding). */
  service(name: string): Promise<Caller>;
  /**
   * Another gateway replica in front of the same subgraphs, trusting the same tokens: a
   * production-mode gateway, or a second replica sharing budgets. Stopped with the supergraph.
   */
  addGateway(options?: GatewayVariant): Promise<ExtraGateway>;
  stop(): Promise<void>;
}

export interface GatewayVariant {
  /** Cost, budgets, trusted documents; the gateway's defaults when absent. */
  limits?: LimitsOptions;
  /** false: production behaviour (no introspection, no suggestions, no Sandbox). */
  development?: boolean;
  /** Partner API keys → grants (a stand-in partners subgraph, until the real one is in the supergraph). */
  resolvePartnerKey?: ResolvePartnerKey;
  /** The gateway's grant cache (a clock the test moves). */
  partnerKeyCache?: GrantCacheOptions;
}

export interface ExtraGateway {
  url: string;
  anonymous: Caller;
  withToken(token: string): Caller;
  stop(): Promise<void>;
}

export interface SupergraphOptions {
  /** The main gateway's variant (its limits: tests that hammer the graph on purpose raise them). */
  gateway?: GatewayVariant;
  /** Browser origins the gateway lets call (CORS); none unless given, as in production. */
  cors?: CorsConfig;
}

/** All subgraphs and the gateway on free ports, each subgraph with its own fresh database. */
export async function startSupergraph(options: SupergraphOptions = {}): Promise<TestSupergraph> {
  const internalSecret = randomBytes(32).toString('hex');
  const jwtSecret = randomBytes(32).toString('hex');
  const clock = new ManualClock();
  const running: RunningSubgraph[] = [];
  // One map shared by all: a subgraph started early finds the ones started after it (members
  // reads the ledger's events, the ledger calls members).
  const peers: Record<string, string> = {};
  for (const module of SUBGRAPHS) {
    const subgraph = await startTestSubgraph(module, { internalSecret, clock, peers });
    peers[subgraph.name] = subgraph.url;
    running.push(subgraph);
  }
  const issuer = 'loyalty-graph-test';
  const audience = 'loyalty-graph';
  const launch = (variant: GatewayVariant = {}) =>
    startGateway(
      {
        subgraphs: running.map(({ name, url }) => ({ name, url })),
        authenticate: createAuthenticator({ issuer, audience, secret: jwtSecret }),
        internalSecret,
        logger: createLogger('gateway', 'silent'),
        development: variant.development ?? true,
        cors: options.cors,
        ...(variant.limits ? { limits: variant.limits } : {}),
        ...(variant.resolvePartnerKey ? { resolvePartnerKey: variant.resolvePartnerKey } : {}),
        ...(variant.partnerKeyCache ? { partnerKeyCache: variant.partnerKeyCache } : {}),
      },
      0,
    );
  const gateway = await launch(options.gateway);
  const extraGateways: { stop(): Promise<void> }[] = [];
  const tokens = createDevTokenIssuer({ secret: jwtSecret, issuer, audience });
  const withToken = (token: string) => caller(gateway.url, bearer(token));
  let n = 0;
  const subject = (prefix: string) => `${prefix}-${++n}`;
  return {
    gatewayUrl: gateway.url,
    subgraphs: Object.fromEntries(running.map((s) => [s.name, s])),
    clock,
    tokens,
    jwt: { secret: jwtSecret, issuer, audience },
    internalSecret,
    anonymous: caller(gateway.url, {}),
    withToken,
    asMember: async (programId, memberId, sub) => withToken(await tokens.member({ programId, memberId, subject: sub ?? subject('member') })),
    asStaff: async (programId, roles, sub) => withToken(await tokens.staff({ programId, roles, subject: sub ?? subject('staff') })),
    asOperator: async () => withToken(await tokens.staff({ programId: null, roles: ['ADMIN'], subject: subject('operator') })),
    async deliverEvents() {
      let total = 0;
      for (let round = 0; round < 20; round++) {
        let read = 0;
        for (const subgraph of running) for (const consumer of subgraph.consumers) read += await consumer.drain();
        total += read;
        if (read === 0) return total;
      }
      throw new Error('events kept flowing after 20 rounds of delivery');
    },
    service: (name) => running.find((s) => s.name === name)!.as(serviceViewer('test')),
    async addGateway(variant) {
      const extra = await launch(variant);
      // A production-mode gateway listens on 0.0.0.0; tests reach it on the loopback address.
      const url = extra.url.replace('//0.0.0.0:', '//127.0.0.1:');
      extraGateways.push(extra);
      return { url, anonymous: caller(url, {}), withToken: (token) => caller(url, bearer(token)), stop: () => extra.stop() };
    },
    async stop() {
      for (const extra of extraGateways) await extra.stop();
      await gateway.stop();
      for (const subgraph of running) await subgraph.stop();
    },
  };
}

export interface TestProgram {
  programId: string;
  admin: Caller;
  agent: Caller;
}

/** Earning rules a test program starts with unless it asks for others: 1 point per 1.00 EUR, rounded down. */
export const BASIC_EARNING_RULES = { currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR' };

/**
 * An active program as a platform operator creates it, with an admin and an agent of its own and
 * the earning rules an admin publishes (`rules: null` leaves it without any).
 */
export async function createTestProgram(graph: TestSupergraph, options: { name?: string; rules?: Record<string, unknown> | null } = {}): Promise<TestProgram> {
  const operator = await graph.asOperator();
  const { createProgram } = await operator.data<{ createProgram: { program: { id: string } } }>(
    `mutation($name: String!) { createProgram(input: { name: $name, type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "0.01", currency: "EUR" }, status: ACTIVE }) { program { id } } }`,
    { name: options.name ?? 'Test program' },
  );
  const programId = createProgram.program.id;
  const admin = await graph.asStaff(programId, ['ADMIN']);
  const agent = await graph.asStaff(programId, ['AGENT']);
  const rules = options.rules === undefined ? BASIC_EARNING_RULES : options.rules;
  if (rules) {
    const { publishEarningRules } = await admin.data<{ publishEarningRules: { userErrors: unknown[] } }>(
      `mutation($input: PublishEarningRulesInput!) { publishEarningRules(input: $input) { userErrors { code field message } } }`,
      { input: { programId, ...rules } },
    );
    if (publishEarningRules.userErrors.length) throw new Error(`earning rules refused: ${JSON.stringify(publishEarningRules.userErrors)}`);
  }
  return { programId, admin, agent };
}
