import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The ledger mutations a reward order calls, as named in the request. */
export type LedgerCall = 'holdPoints' | 'captureHold' | 'releaseHold' | 'refundCapturedPoints';

/**
 * How the ledger "dies" for a call: `refuse` resets the connection without forwarding (down before
 * the call: nothing happened); `lose` forwards it, lets the ledger commit, then resets the
 * connection before the answer (died after committing: it happened, the caller cannot know).
 */
export type LedgerFault = 'refuse' | 'lose';

export interface LedgerProxy {
  /** Put this where the catalog looks for the ledger. */
  url: string;
  /** Breaks every call of this mutation in this way until `heal`. */
  fail(call: LedgerCall, fault: LedgerFault): void;
  heal(): void;
  /** How many calls the armed faults broke since the last `fail`. */
  broken: number;
  close(): Promise<void>;
}

/** A small HTTP proxy in front of the ledger that the test breaks on purpose, call by call. */
export async function startLedgerProxy(ledgerUrl: string): Promise<LedgerProxy> {
  const faults = new Map<LedgerCall, LedgerFault>();
  const proxy = {
    url: '',
    broken: 0,
    fail(call: LedgerCall, fault: LedgerFault) {
      faults.set(call, fault);
      proxy.broken = 0;
    },
    heal() {
      faults.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await read(req);
      const { query = '' } = JSON.parse(body || '{}') as { query?: string };
      const call = [...faults.keys()].find((name) => new RegExp(`\\b${name}\\s*\\(`).test(query));
      const fault = call && faults.get(call);
      if (fault === 'refuse') {
        proxy.broken++;
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(name)) headers[name] = value;
      const answer = await fetch(ledgerUrl, { method: 'POST', headers, body });
      const text = await answer.text();
      if (fault === 'lose') {
        proxy.broken++;
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(text);
    })().catch(() => req.socket.destroy());
  });
  // Connections are not kept alive: each call is its own, so a reset breaks that call only.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return proxy;
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
