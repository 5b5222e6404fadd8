import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { serviceViewer, type Logger, type Viewer } from '@loyalty-graph/shared';

/**
 * A freshly started gateway spends about twice the CPU per request for its first seconds: V8 has
 * not yet compiled the hot path (HTTP parsing, Apollo's pipeline, the query planner, the subgraph
 * client, result shaping) and every plan is a cache miss. A load balancer sends full traffic as
 * soon as /ready answers, so the gateway pays that before: it sends itself real requests over
 * loopback, through the same HTTP server, planner and subgraphs, until the per-request time levels
 * off or the time allowed is up. Subgraphs that do not answer yet only shorten the warm-up.
 *
 * The requests carry a random one-time token that authenticates as an internal service only until
 * the warm-up ends; after that the token is refused like any unknown one. Nobody else can present
 * it: it is never written anywhere and dies with the process.
 */
export interface WarmUp {
  /** Wraps the authenticator: the warm-up token is a SERVICE viewer while warming, unknown after. */
  authenticate<T extends (authorization: string | undefined) => Promise<Viewer>>(authenticate: T): T;
  run(url: string): Promise<WarmUpReport>;
}

export interface WarmUpReport {
  requests: number;
  ms: number;
  /** Microseconds per request over the first and the last batch. */
  firstBatchUs: number;
  lastBatchUs: number;
}

/** Reads and plans what a till and a member's screen do: a lookup in members, a quote in the ledger, one entity fetch between them. */
const WARM_UP_OPERATION = `query GatewayWarmUp($programId: ID!, $value: String!, $input: QuotePurchaseInput!) {
  memberByIdentifier(programId: $programId, type: EMAIL, value: $value) { id status firstName tier { name rank } points { available pending } }
  quotePurchase(input: $input) { quote { points statusPoints } userErrors { code field message } }
}`;

export function createWarmUp(logger: Logger, options: { maxMs?: number; batch?: number } = {}): WarmUp {
  const token = randomBytes(32).toString('base64url');
  const viewer = serviceViewer('gateway-warm-up');
  let warming = true;
  const maxMs = options.maxMs ?? 3_000;
  const batch = options.batch ?? 50;

  return {
    authenticate(authenticate) {
      const wrapped = async (authorization: string | undefined) => {
        if (warming && authorization === `Bearer ${token}`) return viewer;
        return authenticate(authorization);
      };
      return wrapped as typeof authenticate;
    },
    async run(url) {
      const started = performance.now();
      const body = JSON.stringify({
        query: WARM_UP_OPERATION,
        variables: {
          programId: randomUUID(),
          value: 'warm-up@example.invalid',
          input: { memberId: randomUUID(), basket: { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 'WARM-UP', category: 'warm-up', quantity: 1, amount: '10.00' }] } },
        },
      });
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
      // node:http, not fetch: fetch would load undici and its pools into the gateway for good,
      // about 100 MB more resident memory for a client the gateway never uses again.
      const agent = new Agent({ keepAlive: true, maxSockets: batch });
      let requests = 0;
      const batches: number[] = [];
      try {
        // Batches of concurrent requests, as traffic arrives; stop when a batch costs no more than
        // the one before it by 5 % three times in a row (the JIT has caught up), or at the limit.
        let steady = 0;
        while (performance.now() - started < maxMs && steady < 3) {
          const t0 = performance.now();
          const answers = await Promise.all(Array.from({ length: batch }, () => post(agent, url, headers, body)));
          requests += answers.length;
          const us = ((performance.now() - t0) * 1000) / batch;
          const previous = batches[batches.length - 1];
          batches.push(us);
          steady = previous !== undefined && us >= previous * 0.95 && batches.length >= 6 ? steady + 1 : 0;
        }
      } catch (error) {
        // A subgraph that is not up yet: /ready then reports what the gateway can do without it.
        logger.warn('gateway warm-up stopped early', { error: String(error) });
      } finally {
        warming = false;
        agent.destroy();
      }
      const report = { requests, ms: Math.round(performance.now() - started), firstBatchUs: Math.round(batches[0] ?? 0), lastBatchUs: Math.round(batches[batches.length - 1] ?? 0) };
      logger.info('gateway warmed up', { ...report });
      return report;
    },
  };
}

function post(agent: Agent, url: string, headers: Record<string, string>, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
