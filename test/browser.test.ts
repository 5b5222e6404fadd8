import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestProgram, startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * A front-end on its own origin calling the gateway from a real browser (headless Chromium):
 * the gateway's CORS allowlist lets the listed origin read its member's data and refuses every
 * other origin, and Apollo's CSRF prevention refuses requests a browser sends without a
 * preflight (an HTML form, a text/plain fetch), whichever origin they come from.
 */

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  // Visible in the test output: a developer without Chromium still runs `pnpm test`; CI installs it.
  process.stderr.write(`\n[test/browser.test.ts] browser tests SKIPPED: ${CHROMIUM} is missing. Install it with \`apt-get install -y chromium\` (.ci/run does).\n\n`);
}

/** The front-end: its script calls the gateway with fetch and the member's bearer token. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Loyalty front-end</title></head>
<body><script>
  window.callGateway = async (url, token, query, init = {}) => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
        body: JSON.stringify({ query }),
        ...init,
      });
      return { status: response.status, body: await response.json(), requestId: response.headers.get('x-request-id') };
    } catch (error) {
      return { refused: String(error) };
    }
  };
  // What another site can make a visitor's browser send without a preflight or script access
  // to the answer: a form posted as text/plain whose body is shaped like JSON.
  window.postForm = (url, query) => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = url;
    form.enctype = 'text/plain';
    const input = document.createElement('input');
    input.name = JSON.stringify({ query, padding: '' }).slice(0, -2);
    input.value = '"}';
    form.appendChild(input);
    document.body.appendChild(form);
    form.submit();
  };
</script></body></html>`;

type CallResult = { status?: number; body?: { data?: unknown; errors?: { message: string }[] }; requestId?: string | null; refused?: string };

/** What a test changes in the page's fetch (serialisable into the page). */
type FetchInit = { credentials?: 'include' | 'omit' | 'same-origin'; headers?: Record<string, string> };

/** The page's script, as the test calls it (the project compiles without the DOM library). */
interface FrontEnd {
  callGateway(url: string, token: string, query: string, init?: FetchInit): Promise<CallResult>;
  postForm(url: string, query: string): void;
}

async function staticServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const ME = `query { me { id firstName points { pending } } }`;
const RENAME = (memberId: string) =>
  `mutation { updateMemberProfile(input: { memberId: "${memberId}", profile: { firstName: "Mallory" } }) { member { firstName } } }`;
const ENROLL = (programId: string) =>
  `mutation { enrollMember(input: { programId: "${programId}", identifiers: [{ type: EMAIL, value: "csrf@example.com" }] }) { member { id } } }`;

describe('a browser app on its own origin', () => {
  let graph: TestSupergraph;
  let frontEnd: { server: Server; port: number };
  let elsewhere: { server: Server; port: number };
  let allowedOrigin: string;
  let memberId: string;
  let memberToken: string;
  let programId: string;

  beforeAll(async () => {
    frontEnd = await staticServer();
    elsewhere = await staticServer();
    allowedOrigin = `http://127.0.0.1:${frontEnd.port}`;
    graph = await startSupergraph({ cors: { origins: [allowedOrigin] } });

    const program = await createTestProgram(graph);
    programId = program.programId;
    const { enrollMember } = await program.agent.data<{ enrollMember: { member: { id: string } } }>(
      `mutation($p: ID!) { enrollMember(input: { programId: $p, profile: { firstName: "Ada" }, identifiers: [{ type: EMAIL, value: "ada@example.com" }] }) { member { id } } }`,
      { p: programId },
    );
    memberId = enrollMember.member.id;
    await program.agent.data(`mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id } } }`, {
      input: {
        idempotencyKey: 'browser-purchase-1',
        memberId,
        source: 'web',
        externalId: 'B-1',
        basket: { currency: 'EUR', channel: 'ONLINE', lines: [{ lineId: '1', sku: 'SKU-1', category: 'shoes', quantity: 1, amount: '42.00' }] },
      },
    });
    memberToken = await graph.tokens.member({ programId, memberId, subject: 'ada' });
  });

  afterAll(async () => {
    await graph?.stop();
    frontEnd?.server.close();
    elsewhere?.server.close();
  });

  describe('what the gateway answers (as a browser would ask)', () => {
    const preflight = (origin: string) =>
      fetch(graph.gatewayUrl, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });

    it('answers an allowed origin\'s preflight with what it accepts, cacheable for two hours', async () => {
      const response = await preflight(allowedOrigin);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
      expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST');
      const allowedHeaders = response.headers.get('access-control-allow-headers')!.split(', ');
      expect(allowedHeaders).toEqual(expect.arrayContaining(['authorization', 'content-type', 'apollo-require-preflight', 'x-apollo-operation-name', 'x-request-id']));
      expect(response.headers.get('access-control-max-age')).toBe('7200');
      expect(response.headers.get('vary')).toBe('Origin');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    });

    it('refuses the preflight of an origin not on the list with 403 and no CORS headers', async () => {
      for (const origin of [`http://127.0.0.1:${elsewhere.port}`, `http://localhost:${frontEnd.port}`, 'null', `${allowedOrigin}.evil.example`]) {
        const response = await preflight(origin);
        expect(response.status, origin).toBe(403);
        expect(response.headers.get('access-control-allow-origin'), origin).toBeNull();
        expect(response.headers.get('access-control-allow-methods'), origin).toBeNull();
        expect(response.headers.get('vary'), origin).toBe('Origin');
      }
    });

    it('lets the allowed origin read the request id and rate-limit headers, and tells caches the answer depends on the origin', async () => {
      const response = await graph.withToken(memberToken).send('{ __typename }');
      expect(response.headers.get('access-control-allow-origin')).toBeNull(); // no Origin: not a browser, no CORS
      expect(response.headers.get('vary')).toBe('Origin');
      const fromPage = await fetch(graph.gatewayUrl, {
        method: 'POST',
        headers: { origin: allowedOrigin, 'content-type': 'application/json', authorization: `Bearer ${memberToken}` },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(fromPage.status).toBe(200);
      expect(fromPage.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
      expect(fromPage.headers.get('access-control-expose-headers')!.split(', ')).toEqual(
        expect.arrayContaining(['x-request-id', 'retry-after', 'ratelimit', 'ratelimit-policy']),
      );
    });
  });

  describe.skipIf(!hasChromium)(`in headless Chromium${hasChromium ? '' : ` (SKIPPED: ${CHROMIUM} is missing)`}`, () => {
    let context: BrowserContext;
    let profile: string;

    beforeAll(async () => {
      profile = await mkdtemp(join(tmpdir(), 'lg-chromium-'));
      // A persistent context on a fresh directory: Playwright refuses --user-data-dir in args.
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    });

    afterAll(async () => {
      await context?.close();
      if (profile) await rm(profile, { recursive: true, force: true });
    });

    async function open(origin: string): Promise<Page> {
      const page = await context.newPage();
      await page.goto(`${origin}/`);
      return page;
    }

    function call(page: Page, query: string, init: FetchInit = {}): Promise<CallResult> {
      return page.evaluate(([url, token, q, i]) => (globalThis as unknown as FrontEnd).callGateway(url, token, q, i), [graph.gatewayUrl, memberToken, query, init] as const);
    }

    it("gives the allowed origin's page the member's own data and the request id", async () => {
      const page = await open(allowedOrigin);
      const result = await call(page, ME);
      expect(result.refused).toBeUndefined();
      expect(result.status).toBe(200);
      const body = result.body as { data?: unknown; errors?: unknown; extensions?: { cost?: { requestedQueryCost?: unknown } } };
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual({ me: { id: memberId, firstName: 'Ada', points: { pending: 42 } } });
      // The page can read what the operation cost it (docs/limits.md).
      expect(body.extensions?.cost?.requestedQueryCost).toEqual(expect.any(Number));
      // Exposed, so a front-end can quote it to support.
      expect(result.requestId).toMatch(/^[\w.:-]+$/);
      await page.close();
    });

    it.each([
      ['the same host on another port', () => `http://127.0.0.1:${elsewhere.port}`],
      ['the same port as localhost instead of 127.0.0.1', () => `http://localhost:${frontEnd.port}`],
    ])('refuses a page on %s, even with a valid token: fetch rejects and nothing is changed', async (_name, origin) => {
      const page = await open(origin());
      // A mutation, so that whether the gateway ran it can be seen afterwards, whatever the page saw.
      const result = await call(page, RENAME(memberId));
      expect(result.refused).toMatch(/Failed to fetch/);
      // The preflight was refused, so the browser never sent the POST that would have run it.
      const { me } = await graph.withToken(memberToken).data<{ me: { firstName: string } }>(ME);
      expect(me.firstName).toBe('Ada');
      await page.close();
    });

    it('refuses the allowed origin a request with credentials: the gateway takes bearer tokens, not cookies', async () => {
      const page = await open(allowedOrigin);
      const result = await call(page, RENAME(memberId), { credentials: 'include' });
      expect(result.refused).toMatch(/Failed to fetch/);
      const { me } = await graph.withToken(memberToken).data<{ me: { firstName: string } }>(ME);
      expect(me.firstName).toBe('Ada');
      await page.close();
    });

    it('refuses a text/plain form POST from another origin before running its mutation (CSRF prevention)', async () => {
      const page = await open(`http://127.0.0.1:${elsewhere.port}`);
      const answer = page.waitForResponse((response) => response.url() === graph.gatewayUrl && response.request().method() === 'POST');
      await page.evaluate(([url, query]) => (globalThis as unknown as FrontEnd).postForm(url, query), [graph.gatewayUrl, ENROLL(programId)] as const);
      const response = await answer;
      // Blocked before the operation is parsed, let alone authorised or run.
      expect(response.status()).toBe(400);
      expect(await response.text()).toMatch(/Cross-Site Request Forgery/);
      await page.close();
    });

    it('refuses a simple text/plain request even from the allowed origin, before running its mutation', async () => {
      const page = await open(allowedOrigin);
      // A CORS-safelisted content-type and no Authorization: the browser sends this without a
      // preflight, as it would from any site. Its parameter makes our server parse the body as
      // JSON, so only Apollo's CSRF check stands between it and the mutation. The allowed origin
      // may read the answer, which shows why it was refused.
      const result = await call(page, ENROLL(programId), { headers: { 'content-type': 'text/plain; x=application/json' } });
      expect(result.status).toBe(400);
      expect(result.body?.errors?.[0]?.message).toMatch(/Cross-Site Request Forgery/);
      expect(result.body?.data).toBeUndefined();
      await page.close();
    });
  });
});
