/**
 * `pnpm dev`: the whole graph on this machine.
 *   1. PostgreSQL: DATABASE_URL if set, else an embedded server kept in .pgdata/
 *   2. every subgraph as its own process (each creates and migrates its database)
 *   3. demo data (two programs, tiers, a few thousand members, rewards and catalogs), once
 *   4. the gateway on http://localhost:4000 with Apollo Sandbox
 *   5. ready-to-paste Authorization headers for a member, an agent, an admin and an operator, and
 *      an X-Api-Key for the demo partner (a new key at every start, never stored in the clear)
 * Ctrl-C stops the gateway, the subgraphs, then the database.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDevTokenIssuer } from '@loyalty-graph/gateway';
import { parseCodeKey, seedDemoCatalog, VoucherCipher } from '@loyalty-graph/catalog';
import { memberIdByEmail, seedDemo } from '@loyalty-graph/members';
import { seedDemoPartner, type DemoPartner } from '@loyalty-graph/partners';
import { systemClock } from '@loyalty-graph/shared';
import { databaseUrl, openDatabase } from '@loyalty-graph/shared/db';
import { SUBGRAPHS } from '@loyalty-graph/supergraph';
import { analyticsCaughtUp, createDemoSegments, graphClient, openDemoSurvey, recordDemoHistory, redeemDemoPoints, startDemoExperiment } from './lib/demo-analytics';
import { generateSecret, ROOT, spawnService, startDatabase, type ServiceProcess } from './lib/services';

const GATEWAY_PORT = Number(process.env['PORT'] ?? 4000);
const JWT_ISSUER = 'loyalty-graph-dev';
const JWT_AUDIENCE = 'loyalty-graph';

async function main(): Promise<void> {
  const database = await startDatabase();
  const internalSecret = generateSecret();
  const jwtSecret = generateSecret();
  const codeKey = devCodeKey();
  const webhookKey = devWebhookKey();
  const services: ServiceProcess[] = [];

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('\nStopping…\n');
    // The gateway first (no new requests), then the subgraphs, then the database under them.
    for (const service of [...services].reverse()) await service.stop();
    await database.embedded?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    const common = { DATABASE_URL: database.url, INTERNAL_TOKEN_SECRET: internalSecret, NODE_ENV: 'development', LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info' };
    const urls = SUBGRAPHS.map((module) => ({ module, url: `http://127.0.0.1:${module.defaultPort}/graphql` }));
    // Every subgraph learns the others' URLs for its direct service calls (the ledger asks members).
    const peers = urls.map(({ module, url }) => `${module.name}=${url}`).join(',');
    const subgraphs = urls.map(({ module, url }) => ({
      module,
      url,
      process: spawnService(module.name, `subgraphs/${module.name}/src/main.ts`, {
        ...common,
        PORT: String(module.defaultPort),
        SUBGRAPH_URLS: peers,
        // Only the catalog holds voucher codes, so only it gets their key.
        ...(module.name === 'catalog' ? { CATALOG_CODE_KEY: codeKey } : {}),
        // Only partners holds webhook secrets, so only it gets their key.
        ...(module.name === 'partners' ? { PARTNERS_WEBHOOK_KEY: webhookKey } : {}),
      }),
    }));
    services.push(...subgraphs.map((s) => s.process));
    await Promise.all(subgraphs.map((s) => s.process.ready(s.url)));

    const membersModule = SUBGRAPHS.find((m) => m.name === 'members')!;
    const membersDb = await openDatabase({
      url: databaseUrl(database.url, membersModule.database.name),
      entities: membersModule.database.entities,
      migrations: membersModule.database.migrations,
      applicationName: 'dev-seed',
    });
    const programs = await seedDemo(membersDb, systemClock);
    const [first, second] = programs;
    const demoEmail = `member1@${first!.emailDomain}`;
    const demoMemberId = await memberIdByEmail(membersDb, first!.id, demoEmail);
    const tiersOf = async (programId: string) =>
      Object.fromEntries(((await membersDb.query(`SELECT id, name FROM tiers WHERE program_id = $1`, [programId])) as { id: string; name: string }[]).map((t) => [t.name, t.id]));
    // Analytics' demo history is made by these members (member1 first, so their own segments show).
    const historyMembers = ((await membersDb.query(`SELECT id FROM members WHERE program_id = $1 ORDER BY id LIMIT 300`, [first!.id])) as { id: string }[])
      .map((m) => m.id)
      .filter((id) => id !== demoMemberId);
    if (demoMemberId) historyMembers.unshift(demoMemberId);
    const catalogPrograms: Parameters<typeof seedDemoCatalog>[2][] = await Promise.all(programs.map(async (p, i) => ({ id: p.id, locale: i === 0 ? ('da' as const) : ('pl' as const), tiers: await tiersOf(p.id) })));
    await membersDb.destroy();

    const gateway = spawnService('gateway', 'gateway/src/main.ts', {
      ...common,
      PORT: String(GATEWAY_PORT),
      SUBGRAPHS: subgraphs.map((s) => `${s.module.name}=${s.url}`).join(','),
      JWT_SECRET: jwtSecret,
      JWT_ISSUER,
      JWT_AUDIENCE,
    });
    services.push(gateway);
    await gateway.ready(`http://127.0.0.1:${GATEWAY_PORT}`);

    const tokens = createDevTokenIssuer({ secret: jwtSecret, issuer: JWT_ISSUER, audience: JWT_AUDIENCE });
    // The CHARITY reward donates to a ledger charity: made through the graph first, then the catalog seeded with it.
    for (const program of catalogPrograms) {
      program.charityId = await demoCharity(`http://127.0.0.1:${GATEWAY_PORT}/graphql`, program.id, await tokens.staff({ programId: program.id, roles: ['ADMIN'], subject: 'demo-admin' }));
    }
    await seedCatalogs(database.url, catalogPrograms, codeKey);
    const partners = await seedPartners(database.url, programs.map((p) => p.id));
    await publishDemoEarningRules(`http://127.0.0.1:${GATEWAY_PORT}/graphql`, programs.map((p) => p.id), (programId) =>
      tokens.staff({ programId, roles: ['ADMIN'], subject: 'demo-admin' }),
    );
    if (demoMemberId) {
      await giveDemoPoints(`http://127.0.0.1:${GATEWAY_PORT}/graphql`, demoMemberId, await tokens.staff({ programId: first!.id, roles: ['ADMIN'], subject: 'demo-admin' }));
      await giveDemoConsents(`http://127.0.0.1:${GATEWAY_PORT}/graphql`, demoMemberId, await tokens.staff({ programId: first!.id, roles: ['ADMIN'], subject: 'demo-admin' }));
    }
    // A year of purchases, some redemptions, segments, a holdout with an experiment and an NPS survey (scripts/lib/demo-analytics.ts).
    const gatewayUrl = `http://127.0.0.1:${GATEWAY_PORT}/graphql`;
    const demoAdmin = graphClient(gatewayUrl, await tokens.staff({ programId: first!.id, roles: ['ADMIN'], subject: 'demo-admin' }), 'demo analytics');
    const demoOperator = graphClient(gatewayUrl, await tokens.staff({ programId: null, roles: ['ADMIN'], subject: 'demo-operator' }), 'demo analytics');
    const now = new Date();
    await recordDemoHistory(demoAdmin, historyMembers, now);
    await redeemDemoPoints(demoAdmin, historyMembers);
    await analyticsCaughtUp(demoOperator);
    const [frequentBuyers] = await createDemoSegments(demoAdmin, first!.id);
    await startDemoExperiment(demoAdmin, first!.id, now);
    await openDemoSurvey(demoAdmin, first!.id, historyMembers, now);
    const yearAgo = new Date(now.getTime() - 365 * 86_400_000).toISOString();
    const header = (token: string) => `{"Authorization": "Bearer ${token}"}`;
    console.log(`
Loyalty Graph is running.
  Gateway + Apollo Sandbox  http://localhost:${GATEWAY_PORT}/
${subgraphs.map((s) => `  ${s.module.name.padEnd(24)}  ${s.url}`).join('\n')}
  PostgreSQL                ${database.embedded ? `${database.url} (embedded, data in .pgdata/)` : 'DATABASE_URL'}

Demo programs
${programs.map((p) => `  ${p.name.padEnd(24)}  id ${p.id}  (${p.members} members, member1@${p.emailDomain} …)`).join('\n')}

Paste one of these into Sandbox's Headers (valid 12 hours, new ones at every start):
  member ${demoEmail}:
    ${header(await tokens.member({ programId: first!.id, memberId: demoMemberId, subject: 'demo-member-1' }))}
  someone signed in but not enrolled yet (enrollMember, then me { points }: docs/identity.md):
    ${header(await tokens.member({ programId: first!.id, subject: `demo-newcomer-${Date.now()}` }))}
  agent of ${first!.name}:
    ${header(await tokens.staff({ programId: first!.id, roles: ['AGENT'], subject: 'demo-agent' }))}
  admin of ${first!.name}:
    ${header(await tokens.staff({ programId: first!.id, roles: ['ADMIN'], subject: 'demo-admin' }))}
  fulfilment of ${first!.name} (packs and ships reward orders):
    ${header(await tokens.staff({ programId: first!.id, roles: ['FULFILMENT'], subject: 'demo-fulfilment' }))}
  agent of ${second!.name}:
    ${header(await tokens.staff({ programId: second!.id, roles: ['AGENT'], subject: 'demo-agent-2' }))}
  platform operator (creates programs):
    ${header(await tokens.staff({ programId: null, roles: ['ADMIN'], subject: 'demo-operator' }))}
  partner Nordic Fuel of ${first!.name} (an API key: recordPurchase funded by the partner, and its
  purchases read back; docs/identity.md "Partner API keys"):
    {"X-Api-Key": "${partners[0]!.apiKey}"}

Try: variables {"programId": "${first!.id}", "email": "${demoEmail}"} with the example operation.
As the member, Nordic Fuel's offer (member1 consents to partner marketing): { me { offers { nodes { title partnerName availability validUntil } } } }
As the partner (X-Api-Key above): { partnerMemberLookup(identifier: { type: EMAIL, value: "${demoEmail}" }) { memberId canEarn tierName } }
  its settlement so far, and its funding: { currentSettlementStatement(partnerId: "${partners[0]!.partnerId}") { periodStart periodEnd netAmount { amount currency } lines { kind points amount { amount } } csv } partnerFunding { mode remainingPoints } }
  signed webhooks to your own receiver (docs/webhooks.md): mutation { createWebhookEndpoint(input: { url: "http://localhost:9000/hooks", eventTypes: [PURCHASE_RECORDED, MEMBER_ENROLLED] }) { endpoint { id } secret userErrors { code message } } }
As the admin, this year's KPIs by month (analytics, from the other subgraphs' events) and their check against the ledger:
  { program(id: "${first!.id}") { kpis(period: MONTH, from: "${new Date().getUTCFullYear()}-01-01T00:00:00Z", to: "${new Date().getUTCFullYear() + 1}-01-01T00:00:00Z") { start enrolled pointsIssued pointsRedeemed purchases } } analyticsReconciliation(programId: "${first!.id}") { balanced } }
  its money: { program(id: "${first!.id}") { liability { outstandingPoints outstanding { amount currency } } breakageEstimate { ultimateRedemptionRate breakageRate }
    deferredRevenue(from: "${yearAgo}", to: "${now.toISOString()}") { revenueFromPoints { amount } contractLiabilityAtEnd { amount } } } }
  segments, RFM and their profiles: { program(id: "${first!.id}") { segments { id name profile { size averageSpend activeShare reachable { email push } } } } }
    (the segment "Frequent buyers" is ${frequentBuyers}; as the member: { me { segments { name } surveys { id title } } })
  the experiment and the business case: { program(id: "${first!.id}") { holdout { share } experiments { name status readout { variants { key members spendPerMember } sampleRatio { mismatch } warnings } }
    businessCase(from: "${yearAgo}", to: "${now.toISOString()}") { cost { amount } incrementalRevenue { amount } netReturn { amount } warnings } } }
  NPS with its 95% interval: { program(id: "${first!.id}") { nps(from: "${yearAgo}", to: "${new Date(now.getTime() + 86_400_000).toISOString()}") { respondents nps confidenceLow confidenceHigh smallSample } } }
  a backtest of doubled points before publishing them: { program(id: "${first!.id}") { backtestEarningRules(input: { from: "${yearAgo}", to: "${now.toISOString()}",
    rules: { currency: "EUR", basePoints: 2, perAmount: "1.00", rounding: FLOOR, multipliers: [{ dimension: CATEGORY, value: "fuel", factor: "2" }], caps: [{ period: DAY, maxPoints: 5000 }] } }) {
    purchases actualPoints draftPoints liabilityImpact { amount currency } tiers { name actualMembers draftMembers } } } }
As the member: { me { id points { available } eligibleRewards { reward { id name(locale: "en") type points } orderable reasons } } }
Then order one: mutation { placeRewardOrder(input: { idempotencyKey: "my-first-order", memberId: "<me.id>", lines: [{ rewardId: "<reward.id>", quantity: 1 }],
  shippingAddress: { name: "Demo Member", line1: "Vestergade 1", postalCode: "1456", city: "København", country: "DK" } }) {
  order { status points lines { voucherCodes { code } bookingReference } } userErrors { code message } } }
Ctrl-C stops everything.
`);
  } catch (error) {
    process.stderr.write(`pnpm dev failed: ${error instanceof Error ? error.message : String(error)}\n`);
    await stop(1);
  }
}

/** Demo rewards (one of every type) and catalogs for each program, once, through the catalog's own code. */
async function seedCatalogs(serverUrl: string, programs: Parameters<typeof seedDemoCatalog>[2][], codeKey: string): Promise<void> {
  const catalogModule = SUBGRAPHS.find((m) => m.name === 'catalog')!;
  const catalogDb = await openDatabase({
    url: databaseUrl(serverUrl, catalogModule.database.name),
    entities: catalogModule.database.entities,
    migrations: catalogModule.database.migrations,
    applicationName: 'dev-seed',
  });
  try {
    const codes = new VoucherCipher(parseCodeKey(codeKey));
    for (const program of programs) await seedDemoCatalog(catalogDb, systemClock, program, codes);
  } finally {
    await catalogDb.destroy();
  }
}

/** The demo partner of each program (with an agreement and an API client), and a fresh key for each. */
async function seedPartners(serverUrl: string, programIds: string[]): Promise<DemoPartner[]> {
  const partnersModule = SUBGRAPHS.find((m) => m.name === 'partners')!;
  const partnersDb = await openDatabase({
    url: databaseUrl(serverUrl, partnersModule.database.name),
    entities: partnersModule.database.entities,
    migrations: partnersModule.database.migrations,
    applicationName: 'dev-seed',
  });
  try {
    const partners: DemoPartner[] = [];
    for (const programId of programIds) partners.push(await seedDemoPartner(partnersDb, systemClock, programId));
    return partners;
  } finally {
    await partnersDb.destroy();
  }
}

/**
 * The catalog's voucher code key (CATALOG_CODE_KEY), unlike the other secrets kept between starts:
 * codes encrypted with a key that is gone are unreadable, and the demo codes live as long as
 * .pgdata. Kept next to it in .catalog-code-key, readable by this user only, never committed
 * (.gitignore). Deleting it makes the existing demo codes unreadable: delete .pgdata with it.
 */
function devCodeKey(): string {
  const file = join(ROOT, '.catalog-code-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = randomBytes(32).toString('base64');
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}

/**
 * The partners' webhook secrets key (PARTNERS_WEBHOOK_KEY), kept between starts like the catalog's
 * code key: endpoints made in the demo database keep signing after a restart. In
 * .partners-webhook-key, readable by this user only, never committed (.gitignore).
 */
function devWebhookKey(): string {
  const file = join(ROOT, '.partners-webhook-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = randomBytes(32).toString('base64');
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}

/**
 * 1,000 points for the demo member, once (a fixed idempotency key), so some rewards are orderable
 * and some say NOT_ENOUGH_POINTS. Through the graph, as the program's admin would.
 */
async function giveDemoPoints(url: string, memberId: string, adminToken: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      query: `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { userErrors { code message } } }`,
      variables: { i: { idempotencyKey: 'demo-member-1-welcome-points', memberId, points: 1_000, reasonCode: 'GOODWILL', comment: 'Demo welcome points' } },
    }),
  });
  const body = (await response.json()) as { data?: { adjustPoints: { userErrors: unknown[] } }; errors?: unknown };
  if (body.errors || body.data?.adjustPoints.userErrors.length) throw new Error(`demo points: ${JSON.stringify(body.errors ?? body.data?.adjustPoints.userErrors)}`);
}

/**
 * The demo member consents to partner marketing and sharing (push), so `me { offers }` shows the
 * demo partner's offer and the partner's key finds them. Setting what is already set changes
 * nothing (no event), so every start may do it.
 */
async function giveDemoConsents(url: string, memberId: string, adminToken: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      query: `mutation($i: SetConsentsInput!) { setConsents(input: $i) { userErrors { code message } } }`,
      variables: { i: { memberId, source: 'HOTLINE', consents: [{ channel: 'PUSH', purpose: 'PARTNER_MARKETING', granted: true }, { channel: 'PUSH', purpose: 'PARTNER_SHARING', granted: true }] } },
    }),
  });
  const body = (await response.json()) as { data?: { setConsents: { userErrors: unknown[] } }; errors?: unknown };
  if (body.errors || body.data?.setConsents.userErrors.length) throw new Error(`demo consents: ${JSON.stringify(body.errors ?? body.data?.setConsents.userErrors)}`);
}

/** The demo program's charity in the ledger (created once, by name), with donations switched on. */
async function demoCharity(url: string, programId: string, adminToken: string): Promise<string> {
  const send = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` }, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as { data?: T; errors?: unknown };
    if (body.errors || !body.data) throw new Error(`demo charity: ${JSON.stringify(body.errors)}`);
    return body.data;
  };
  const name = 'Plant a Tree Foundation';
  const { program } = await send<{ program: { charities: { id: string; name: string }[] } }>(`query($p: ID!) { program(id: $p) { charities { id name } } }`, { p: programId });
  const found = program.charities.find((c) => c.name === name);
  if (found) return found.id;
  await send(`mutation($p: ID!) { configureLedger(input: { programId: $p, monthlyDonationLimit: 10000 }) { settings { monthlyDonationLimit } } }`, { p: programId });
  const { createCharity } = await send<{ createCharity: { charity: { id: string } | null; userErrors: unknown[] } }>(
    `mutation($p: ID!, $n: String!) { createCharity(input: { programId: $p, name: $n }) { charity { id } userErrors { code message } } }`,
    { p: programId, n: name },
  );
  if (!createCharity.charity) throw new Error(`demo charity: ${JSON.stringify(createCharity.userErrors)}`);
  return createCharity.charity.id;
}

/** Gives each demo program earning rules once, through the graph as its admin would. */
async function publishDemoEarningRules(url: string, programIds: string[], adminToken: (programId: string) => Promise<string>): Promise<void> {
  for (const programId of programIds) {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${await adminToken(programId)}` };
    const send = async (query: string) => {
      const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables: { p: programId } }) });
      const body = (await response.json()) as { data?: { program?: { earningRules: unknown } }; errors?: unknown };
      if (body.errors) throw new Error(`demo earning rules: ${JSON.stringify(body.errors)}`);
      return body.data;
    };
    const current = await send(`query($p: ID!) { program(id: $p) { earningRules { version } } }`);
    if (current?.program?.earningRules) continue;
    // In force from 400 days ago, so the demo's year of purchase history (scripts/lib/demo-analytics.ts) earns points.
    const effectiveFrom = new Date(Date.now() - 400 * 86_400_000).toISOString();
    await send(`mutation($p: ID!) { publishEarningRules(input: { programId: $p, effectiveFrom: "${effectiveFrom}", currency: "EUR", basePoints: 1, perAmount: "1.00", rounding: FLOOR,
      multipliers: [{ dimension: CATEGORY, value: "fuel", factor: "2" }], caps: [{ period: DAY, maxPoints: 5000 }] }) { ruleSet { version } } }`);
  }
}

void main();
