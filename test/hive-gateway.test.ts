import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGatewayRuntime, type GatewayPlugin, type GatewayRuntime } from '@graphql-hive/gateway';
import { unifiedGraphHandler, useQueryPlan } from '@graphql-hive/router-runtime';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loyaltyGraphHiveConfig } from '@loyalty-graph/gateway/hive-plugin';
import { createRouterCoprocessor, edgeFromEnv } from '@loyalty-graph/gateway';
import { createViewerSigner, VIEWER_HEADER } from '@loyalty-graph/shared';
import { committedSupergraph, routeSupergraph } from '@loyalty-graph/supergraph';
import { bearer, caller, errorCodes, sendOperation, type Caller, type GraphQLResponse } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
// The partners subgraph is not on this branch yet: a stand-in answers its apiKeyGrant contract.
import { startPartnersStandIn, type PartnersStandIn } from '../gateway/src/partners-stand-in';

/**
 * The committed supergraph on Hive Gateway (the scale-out path), in front of the same subgraphs
 * and databases as our gateway, with our authentication as a Hive Gateway plugin
 * (gateway/src/hive-plugin.ts): the caller's JWT becomes our signed x-lg-viewer. Run in process
 * with Hive's JavaScript query planner and with the Rust one (@graphql-hive/router-runtime), and
 * as operators run it: the hive-gateway CLI with gateway/hive/gateway.config.ts and the Rust planner.
 */

const ROOT = new URL('..', import.meta.url).pathname;

let graph: TestSupergraph;
let programA: TestProgram;
let programB: TestProgram;
let memberId: string;
let partners: PartnersStandIn;

const PURCHASE = `mutation($input: RecordPurchaseInput!) {
  recordPurchase(input: $input) { purchase { id points pendingPoints } userErrors { code field message } }
}`;
/** Two subgraphs in one answer: the member from members, their points from the ledger. */
const ME = `{ me { id status identifiers { type value } points { pending available } } }`;
const MEMBER = `query($id: ID!) { member(id: $id) { id points { pending } } }`;
const PARTNER_ID = '5b2f1d0e-7c1a-4e0b-9f3d-2a6c8e4b1d77';

beforeAll(async () => {
  graph = await startSupergraph();
  programA = await createTestProgram(graph, { name: 'Hive A' });
  programB = await createTestProgram(graph, { name: 'Hive B' });
  const { enrollMember } = await programA.agent.data<{ enrollMember: { member: { id: string } } }>(
    `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: "hive@example.com" }] }) { member { id } } }`,
    { p: programA.programId },
  );
  memberId = enrollMember.member.id;
  partners = await startPartnersStandIn(graph.internalSecret);
});
afterAll(async () => {
  await graph?.stop();
  await partners?.stop();
});

interface RunningHive {
  url: string;
  /** The Rust planner's plans, newest last (proof it planned; empty with the JS planner). */
  plans: unknown[];
  stop(): Promise<void>;
}

/** Hive Gateway on a free port, serving the committed supergraph routed to the test subgraphs. */
async function startHiveGateway(planner: 'js' | 'rust' | 'cli'): Promise<RunningHive> {
  const supergraph = routeSupergraph(committedSupergraph(), Object.fromEntries(Object.values(graph.subgraphs).map((s) => [s.name, s.url])));
  const env = {
    INTERNAL_TOKEN_SECRET: graph.internalSecret,
    JWT_SECRET: graph.jwt.secret,
    JWT_ISSUER: graph.jwt.issuer,
    JWT_AUDIENCE: graph.jwt.audience,
    PARTNERS_URL: partners.url,
  };
  if (planner === 'cli') return startHiveCli(supergraph, env);
  const ours = loyaltyGraphHiveConfig(env);
  const plans: unknown[] = [];
  const runtime: GatewayRuntime = createGatewayRuntime({
    supergraph,
    ...ours,
    ...(planner === 'rust' ? { unifiedGraphHandler, plugins: () => [...ours.plugins(), queryPlans(plans)] } : {}),
    logging: false,
  });
  const server: Server = createServer(runtime);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    plans,
    async stop() {
      await runtime.dispose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `hive-gateway supergraph <file> -c gateway/hive/gateway.config.ts --hive-router-runtime`, as the docs run it. */
async function startHiveCli(supergraph: string, env: Record<string, string>): Promise<RunningHive> {
  const dir = mkdtempSync(join(tmpdir(), 'hive-cli-'));
  const file = join(dir, 'supergraph.graphql');
  writeFileSync(file, supergraph);
  const port = await freePort();
  const cli = spawn(join(ROOT, 'node_modules/.bin/hive-gateway'), ['supergraph', file, '-c', 'gateway/hive/gateway.config.ts', '-p', String(port), '-h', '127.0.0.1', '--hive-router-runtime'], {
    cwd: ROOT,
    env: { ...process.env, ...env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  cli.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (cli.exitCode !== null) throw new Error(`hive-gateway exited with ${cli.exitCode}:\n${output}`);
    const ready = await fetch(`${url}/readiness`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`hive-gateway did not become ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url: `${url}/graphql`,
    plans: [],
    async stop() {
      const exited = new Promise((resolve) => cli.once('exit', resolve));
      cli.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Records the Rust planner's plans. router-runtime's typings bundle their own copy of Hive's
 * Logger class, so its plugin type is not assignable to gateway-runtime's although it is one.
 */
function queryPlans(plans: unknown[]): GatewayPlugin {
  return useQueryPlan({ onQueryPlan: (plan) => void plans.push(plan) }) as unknown as GatewayPlugin;
}

describe.each(['js', 'rust', 'cli'] as const)('Hive Gateway (%s)', (planner) => {
  let hive: RunningHive;
  let agentA: Caller;
  let agentB: Caller;
  let member: Caller;
  beforeAll(async () => {
    hive = await startHiveGateway(planner);
    agentA = caller(hive.url, bearer(await graph.tokens.staff({ programId: programA.programId, roles: ['AGENT'], subject: `hive-agent-a-${planner}` })));
    agentB = caller(hive.url, bearer(await graph.tokens.staff({ programId: programB.programId, roles: ['AGENT'], subject: `hive-agent-b-${planner}` })));
    member = caller(hive.url, bearer(await graph.tokens.member({ programId: programA.programId, memberId, subject: `hive-member-${planner}` })));
  });
  afterAll(() => hive?.stop());

  it("records an agent's purchase and shows it in the member's own view across both subgraphs", async () => {
    const before = (await member.data<{ me: { points: { pending: number } } }>(ME)).me.points.pending;
    const response = await agentA.send<{ recordPurchase: { purchase: { id: string; points: number; pendingPoints: number } | null; userErrors: unknown[] } }>(PURCHASE, {
      input: {
        idempotencyKey: `hive-${planner}-1`,
        memberId,
        source: 'till-hive',
        externalId: `R-hive-${planner}`,
        basket: { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 'DIESEL', category: 'fuel', quantity: 1, amount: '42.50' }] },
      },
    });
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    // 1 point per 1.00 EUR, rounded down (the test program's rules): the ledger really ran.
    expect(response.data?.recordPurchase).toMatchObject({ purchase: { points: 42, pendingPoints: 42 }, userErrors: [] });
    expect(response.data?.recordPurchase.purchase?.id).toMatch(/\S/);

    const { me } = await member.data<{ me: { id: string; status: string; identifiers: { type: string; value: string }[]; points: { pending: number; available: number } } }>(ME);
    expect(me).toMatchObject({ id: memberId, status: 'ACTIVE', identifiers: [{ type: 'EMAIL', value: 'hive@example.com' }] });
    expect(me.points.pending).toBe(before + 42);
    if (planner === 'rust') {
      // Planned by the Rust planner: a fetch from members, then the ledger's points.
      expect(hive.plans.at(-1)).toMatchObject({
        kind: 'QueryPlan',
        node: { kind: 'Sequence', nodes: [{ kind: 'Fetch', serviceName: 'members' }, { kind: 'Flatten', node: { kind: 'Fetch', serviceName: 'ledger' } }] },
      });
    } else {
      expect(hive.plans).toEqual([]);
    }
    // The same answer our own gateway gives for the same member.
    const ours = await (await graph.asMember(programA.programId, memberId)).data<{ me: unknown }>(ME);
    expect(me).toEqual(ours.me);
  });

  it('answers many members asking at once each with their own data, never another’s', async () => {
    // Hive Gateway de-duplicates identical in-flight subgraph requests by default, keyed without
    // the viewer our plugin signs: every member's `me` is the same text, so one member's answer
    // went to all waiting members. The config turns it off; this proves it stays off.
    const others = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const { enrollMember } = await programA.agent.data<{ enrollMember: { member: { id: string } } }>(
          `mutation($p: ID!, $e: String!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: $e }] }) { member { id } } }`,
          { p: programA.programId, e: `hive-crowd-${planner}-${i}@example.com` },
        );
        return { id: enrollMember.member.id, caller: caller(hive.url, bearer(await graph.tokens.member({ programId: programA.programId, memberId: enrollMember.member.id, subject: `hive-crowd-${planner}-${i}` }))) };
      }),
    );
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(others.map((m) => m.caller.send<{ me: { id: string; points: { pending: number } | null } }>(ME)));
      answers.forEach((answer, i) => {
        expect(answer.errors, `member ${i}`).toBeUndefined();
        expect(answer.data?.me.id).toBe(others[i]!.id);
      });
    }
  });

  it('prices every operation as our gateway does and refuses what our limits refuse', async () => {
    const viaHive = await member.send<{ me: unknown }>(ME);
    const ours = await (await graph.asMember(programA.programId, memberId)).send<{ me: unknown }>(ME);
    const costOf = (r: { extensions?: Record<string, unknown> }) => (r.extensions?.['cost'] as { requestedQueryCost?: number } | undefined)?.requestedQueryCost;
    expect(costOf(viaHive)).toBeGreaterThan(0);
    expect(costOf(viaHive)).toBe(costOf(ours));

    const aliases = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    const refused = await member.send(aliases);
    expect(refused.status).toBe(400);
    expect(errorCodes(refused)).toEqual(['ALIAS_LIMIT_EXCEEDED']);
    expect(refused.data ?? null).toBeNull();
  });

  it("refuses another program's agent reading the member (FORBIDDEN), while the member's own agent may", async () => {
    const refused = await agentB.send<{ member: unknown }>(MEMBER, { id: memberId });
    expect(errorCodes(refused)).toContain('FORBIDDEN');
    expect(refused.data?.member ?? null).toBeNull();
    const allowed = await agentA.data<{ member: { id: string; points: { pending: number } } }>(MEMBER, { id: memberId });
    expect(allowed.member.id).toBe(memberId);
    expect(allowed.member.points.pending).toBeGreaterThanOrEqual(42);
  });

  it('takes a partner key: a purchase funded by its partner, the client’s own budget answered 429 with RateLimit headers', async () => {
    const key = partners.issue({ clientId: `hive-client-${planner}`, partnerId: PARTNER_ID, programId: programA.programId, scopes: ['purchases:write'], rateLimitPerMinute: 20 });
    const input = () => ({ input: { idempotencyKey: `hive-partner-${planner}-${Math.random().toString(36).slice(2)}`, memberId, source: 'partner-till', externalId: `hive-${planner}-${Math.random()}`, basket: { currency: 'EUR', channel: 'PARTNER', lines: [{ lineId: '1', sku: 'X', category: 'food', quantity: 1, amount: '10.00' }] } } });
    const FUNDED = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { entry { lines { amount account { kind ownerId } } } userErrors { code } } }`;
    const partner = caller(hive.url, { 'x-api-key': key });
    const recorded = await partner.data<{ recordPurchase: { entry: { lines: unknown[] } } }>(FUNDED, input());
    expect(recorded.recordPurchase.entry.lines).toEqual([{ amount: -10, account: { kind: 'PARTNER_FUNDING', ownerId: PARTNER_ID } }]);
    const refused = await partner.send(FUNDED, input());
    expect(refused.status).toBe(429);
    expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
    expect(refused.headers.get('ratelimit-policy')).toBe('"partner";q=20;w=60');
    expect(refused.headers.get('ratelimit')).toMatch(/^"partner";r=\d+;t=\d+$/);
    const unknown = await sendOperation(hive.url, FUNDED, input(), { 'x-api-key': `lgp_Unknown1_${'u'.repeat(43)}` });
    expect(unknown.status).toBe(401);
    expect(errorCodes(unknown)).toEqual(['UNAUTHENTICATED']);
  });

  it('treats a caller without a token as anonymous, as our gateway does: asked to sign in', async () => {
    const response = await sendOperation<{ me: unknown }>(hive.url, ME);
    expect(response.data?.me ?? null).toBeNull();
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    // The subgraph's own refusal of the anonymous viewer, not "missing internal token".
    expect(refusals(response)).toEqual(refusals(await graph.anonymous.send(ME)));
  });

  it('refuses an invalid, expired or malformed token with 401 UNAUTHENTICATED', async () => {
    const key = new TextEncoder().encode('a-secret-nobody-configured-0123456789');
    const forged = await new SignJWT({ kind: 'staff', roles: ['ADMIN'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('mallory').setIssuer(graph.jwt.issuer).setAudience(graph.jwt.audience).setExpirationTime('5m').sign(key);
    const expired = await new SignJWT({ kind: 'member', programId: programA.programId, memberId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('late')
      .setIssuer(graph.jwt.issuer)
      .setAudience(graph.jwt.audience)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(graph.jwt.secret));
    for (const authorization of [`Bearer ${forged}`, `Bearer ${expired}`, 'Bearer not-a-jwt', 'Basic abc']) {
      const response = await sendOperation(hive.url, ME, {}, { authorization });
      expect(response.status, authorization).toBe(401);
      expect(errorCodes(response), authorization).toEqual(['UNAUTHENTICATED']);
      expect(response.data ?? null).toBeNull();
    }
  });

  it('does not let anyone map the schema (introspection off, as our gateway in production)', async () => {
    const response = await member.send('{ __schema { types { name } } }');
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0]?.message).toMatch(/introspection/i);
  });

  it('refuses operations nested deeper than our limit, with the same error as our gateway', async () => {
    let selection = 'id';
    for (let i = 0; i < 7; i++) selection = `tiers { program { ${selection} } }`;
    const deep = `{ programs { nodes { ${selection} } } }`;
    const operator = bearer(await graph.tokens.staff({ programId: null, roles: ['ADMIN'], subject: `hive-deep-${planner}` }));
    const response = await sendOperation(hive.url, deep, {}, operator);
    expect(response.data ?? null).toBeNull();
    expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(response.errors?.[0]?.message).toMatch(/at most 12/);
    // Refused by the gateway before planning: the subgraphs have the same limit, but a refusal
    // passed on from one names it (serviceName).
    expect(response.errors?.[0]?.extensions?.['serviceName']).toBeUndefined();
  });

  it('blocks a simple cross-site GET request (CSRF prevention), not one with a preflight header', async () => {
    const query = `${hive.url}?query=${encodeURIComponent('{ __typename }')}`;
    const blocked = await fetch(query);
    expect(blocked.status).toBe(403);
    expect(await blocked.text()).toMatch(/CSRF/);
    const allowed = await fetch(query, { headers: { 'apollo-require-preflight': 'true' } });
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as { data?: unknown }).data).toEqual({ __typename: 'Query' });
  });

  it('refuses batched requests, as our gateway does', async () => {
    const response = await fetch(hive.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(response.status).toBe(400);
  });

  it("never forwards a caller's own x-lg-viewer, even one signed with the real secret", async () => {
    const admin = await createViewerSigner(graph.internalSecret)({ kind: 'STAFF', subject: 'forger', programId: programA.programId, memberId: null, partnerId: null, roles: ['ADMIN'], scopes: [] });
    const response = await sendOperation<{ member: unknown }>(hive.url, MEMBER, { id: memberId }, { [VIEWER_HEADER]: admin });
    expect(response.data?.member ?? null).toBeNull();
    // Answered as the anonymous caller it is.
    expect(refusals(response)).toEqual(refusals(await graph.anonymous.send(MEMBER, { id: memberId })));
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it("keeps a caller's request id, replaces an unsafe one, and hands it to the subgraphs", async () => {
    const kept = await sendOperation(hive.url, '{ __typename }', {}, { 'x-request-id': 'support-ticket-42' });
    expect(kept.headers.get('x-request-id')).toBe('support-ticket-42');
    const replaced = await sendOperation(hive.url, '{ __typename }', {}, { 'x-request-id': 'bad id\twith tab' });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    // A subgraph reports an internal failure with the request id it logged it under.
    await graph.subgraphs['members']!.db.query('ALTER TABLE programs RENAME TO programs_gone_hive');
    try {
      const operator = bearer(await graph.tokens.staff({ programId: null, roles: ['ADMIN'], subject: `hive-operator-${planner}` }));
      const failed = await sendOperation(hive.url, '{ programs { nodes { id } } }', {}, { ...operator, 'x-request-id': `hive-${planner}-failure` });
      expect(errorCodes(failed)).toContain('INTERNAL_SERVER_ERROR');
      expect(failed.errors?.map((e) => e.extensions?.['requestId'])).toContain(`hive-${planner}-failure`);
      expect(JSON.stringify(failed.errors)).not.toMatch(/programs_gone|relation|QueryFailed/i);
    } finally {
      await graph.subgraphs['members']!.db.query('ALTER TABLE programs_gone_hive RENAME TO programs');
    }
  });
});

/** What a refusal tells the caller, without gateway-specific extensions (Hive adds serviceName). */
function refusals(response: GraphQLResponse<unknown>) {
  return (response.errors ?? []).map((e) => ({ code: e.extensions?.['code'], message: e.message, path: e.path }));
}

describe('Apollo Router coprocessor in front of the same subgraphs', () => {
  // Apollo Router cannot run here; this does its part by hand: the RouterRequest call, then the
  // subgraph request with the headers the router.yaml propagates (x-lg-viewer, x-request-id).
  it("gives the subgraphs a viewer they accept as the caller, and nothing for a bad token", async () => {
    const coprocessor = createRouterCoprocessor(
      edgeFromEnv({ INTERNAL_TOKEN_SECRET: graph.internalSecret, JWT_SECRET: graph.jwt.secret, JWT_ISSUER: graph.jwt.issuer, JWT_AUDIENCE: graph.jwt.audience }),
    );
    const token = await graph.tokens.member({ programId: programA.programId, memberId, subject: 'router-member' });
    const reply = await coprocessor({ version: 1, stage: 'RouterRequest', control: 'continue', id: 'r-1', headers: { authorization: [`Bearer ${token}`], 'x-request-id': ['router-1'] } });
    expect(reply.control).toBe('continue');
    const propagated = { [VIEWER_HEADER]: reply.headers![VIEWER_HEADER]![0]!, 'x-request-id': reply.headers!['x-request-id']![0]! };
    const members = graph.subgraphs['members']!;
    const response = await sendOperation<{ me: { id: string } }>(members.url, '{ me { id } }', {}, propagated);
    expect(response.errors).toBeUndefined();
    expect(response.data?.me.id).toBe(memberId);
    expect(response.headers.get('x-request-id')).toBe('router-1');

    const refused = await coprocessor({ version: 1, stage: 'RouterRequest', control: 'continue', id: 'r-2', headers: { authorization: ['Bearer forged'] } });
    expect(refused.control).toEqual({ break: 401 });
    expect(refused.headers?.[VIEWER_HEADER]).toBeUndefined();
  });
});
