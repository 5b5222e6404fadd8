import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** What a receiver does with the next request. */
export type ReceiverMode = 'ok' | 'fail' | 'hang';

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  receivedAt: number;
}

/**
 * A real HTTP receiver on a free port, as a partner runs one: it answers 204, or 500 with an error
 * page, or hangs (never answers) until the test switches it back. Records every request it got.
 */
export async function startReceiver(): Promise<{ url: string; received: Received[]; mode: ReceiverMode; delayMs: number; stop(): Promise<void> }> {
  const received: Received[] = [];
  const state = { mode: 'ok' as ReceiverMode, delayMs: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const header = (name: keyof IncomingHttpHeaders) => String(req.headers[name] ?? '');
      received.push({ id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature'), body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() });
      if (state.mode === 'hang') return;
      if (state.mode === 'fail') {
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end(`<html><body>Internal Server Error ${'x'.repeat(1_000)}</body></html>`);
        return;
      }
      // A slow receiver keeps a batch in flight (the chaos test kills the deliverer then).
      setTimeout(() => {
        res.writeHead(204);
        res.end();
      }, state.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    get mode() {
      return state.mode;
    },
    set mode(mode: ReceiverMode) {
      state.mode = mode;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Whether a delivery carries a valid v1 signature by `secret`, computed by the standardwebhooks
 * library (an independent implementation of the convention), at the delivery's own timestamp.
 */
export function signedBy(secret: string, r: Pick<Received, 'id' | 'timestamp' | 'signature' | 'body'>): boolean {
  return r.signature.split(' ').includes(new Webhook(secret).sign(r.id, new Date(Number(r.timestamp) * 1000), r.body));
}
