import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, createViewerSigner, ANONYMOUS, systemClock, VIEWER_HEADER } from '@loyalty-graph/shared';
import { partnersEvents } from '@loyalty-graph/shared/contracts';
import { databaseUrl, ensureDatabase, openDatabase } from '@loyalty-graph/shared/db';
import { emit } from '@loyalty-graph/shared/events';
import { httpEventTransport, launchSubgraph } from '@loyalty-graph/shared/subgraph';
import { caller } from '@loyalty-graph/testing';
import { startEmbeddedPostgres } from '@loyalty-graph/testing/embedded-postgres';
import { freePort } from '../packages/testing/src/global-setup';
import { partnersSubgraph } from '../subgraphs/partners/src/server';

/** Messages in the run (one event each, to one endpoint). */
const MESSAGES = Number(process.env['BENCH_WEBHOOKS'] ?? 2_000);
/** Events committed at once (each in its own transaction). */
const WRITERS = Number(process.env['BENCH_WEBHOOK_WRITERS'] ?? 8);

/**
 * Webhook deliveries to a local receiver: the partners subgraph runs as a service does (its
 * consumers and its scheduler in the background, the system clock), partners' own
 * SettlementStatementClosed events are committed to its outbox, its consumer makes one message per
 * event for a subscribed endpoint, and the webhook-delivery job POSTs them, signed, to a receiver
 * on loopback that answers 204 at once. Figures: deliveries per second (first commit to last
 * arrival) and the delay of each message from its event's commit to its arrival (p50, p99). The
 * delay includes the scheduler's tick (1 s) and the job's interval (1 s): the job is what a
 * deployment runs, so that is what a partner sees.
 */
export async function webhooksScenario(): Promise<Record<string, unknown>> {
  const external = process.env['DATABASE_URL'];
  const embedded = external ? null : await startEmbeddedPostgres({ dataDir: mkdtempSync(join(tmpdir(), 'lg-bench-pg-')), port: await freePort(), persistent: false, durable: true });
  const serverUrl = external ?? embedded!.url;
  const database = `bench_webhooks_${Date.now()}`;
  process.env['PARTNERS_WEBHOOK_KEY'] ??= randomBytes(32).toString('base64');
  const committedAt = new Map<string, number>();
  const arrivedAt = new Map<string, number>();
  let requests = 0;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests++;
      const { data } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { statementId: string } };
      if (!arrivedAt.has(data.statementId)) arrivedAt.set(data.statementId, Date.now());
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

  await ensureDatabase(serverUrl, database);
  const db = await openDatabase({ url: databaseUrl(serverUrl, database), entities: [], migrations: partnersSubgraph.database.migrations, applicationName: 'partners' });
  const internalSecret = randomBytes(32).toString('hex');
  const peers: Record<string, string> = {};
  // Only partners' own feed is read: the other producers are not running (their consumers retry quietly).
  const logger = createLogger('partners', 'error');
  const launched = await launchSubgraph(partnersSubgraph, { db, clock: systemClock, logger, internalSecret, introspection: false, peers, events: httpEventTransport(peers, internalSecret) }, { port: await freePort(), background: true });
  peers['partners'] = launched.server.url;
  try {
    const sign = createViewerSigner(internalSecret);
    const programId = randomUUID();
    const admin = caller(launched.server.url, { [VIEWER_HEADER]: await sign({ ...ANONYMOUS, kind: 'STAFF', programId, roles: ['ADMIN'], subject: 'bench-admin' }) });
    const { createPartner } = await admin.data<{ createPartner: { partner: { id: string } } }>(`mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } } }`, {
      input: { idempotencyKey: 'bench-webhooks-partner', programId, name: 'Bench partner', category: 'RETAIL' },
    });
    const partnerId = createPartner.partner.id;
    await admin.data(`mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`, {
      input: { partnerId, url: receiverUrl, eventTypes: ['STATEMENT_CLOSED'] },
    });

    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        while (next < MESSAGES) {
          next++;
          const statementId = randomUUID();
          const now = new Date();
          await db.transaction((tx) =>
            emit(tx, partnersEvents, [{ type: 'SettlementStatementClosed', payload: { programId, partnerId, statementId, periodStart: now.toISOString(), periodEnd: now.toISOString(), currency: 'EUR', netAmount: '1.00', closedAt: now.toISOString() } }], now),
          );
          committedAt.set(statementId, Date.now());
        }
      }),
    );
    const committed = Date.now();
    const deadline = Date.now() + 10 * 60_000;
    while (arrivedAt.size < MESSAGES && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const delays = [...committedAt].map(([id, at]) => (arrivedAt.get(id) ?? Number.NaN) - at).sort((a, b) => a - b);
    const lastArrival = Math.max(...arrivedAt.values());
    const quantile = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))]!;
    return {
      messages: MESSAGES,
      writers: WRITERS,
      delivered: arrivedAt.size,
      lost: MESSAGES - arrivedAt.size,
      requests,
      sentTwice: requests - arrivedAt.size,
      commitsPerSecond: Math.round((MESSAGES / (committed - started)) * 1000),
      deliveriesPerSecond: Math.round((arrivedAt.size / (lastArrival - started)) * 1000),
      delayP50Ms: quantile(0.5),
      delayP99Ms: quantile(0.99),
      delayMaxMs: delays.at(-1),
    };
  } finally {
    await launched.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await embedded?.stop();
  }
}
