import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS, createLogger, unauthenticated } from '@loyalty-graph/shared';
import { createWarmUp } from './warm-up';

const realAuthenticate = async (authorization: string | undefined) => {
  if (!authorization) return ANONYMOUS;
  throw unauthenticated('The access token is invalid or has expired', 401);
};

/** A stand-in for the gateway's HTTP server that records what the warm-up sends it. */
async function recordingServer(answer: (authorization: string | undefined) => Promise<unknown>) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    req.resume();
    req.on('end', () => {
      void answer(req.headers.authorization).then(
        (viewer) => res.end(JSON.stringify({ data: { viewer } })),
        () => res.writeHead(401).end('{}'),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, seen, close: () => new Promise((r) => server.close(r)) };
}

describe('gateway warm-up', () => {
  it('authenticates its own requests as an internal service while warming, and its token is refused once it is done', async () => {
    const warmUp = createWarmUp(createLogger('gateway', 'silent'), { maxMs: 300, batch: 5 });
    const authenticate = warmUp.authenticate(realAuthenticate);
    const viewers: string[] = [];
    const server = await recordingServer(async (authorization) => {
      const viewer = await authenticate(authorization);
      viewers.push(`${viewer.kind}:${viewer.subject}`);
      return viewer;
    });
    try {
      const report = await warmUp.run(server.url);
      expect(report.requests).toBeGreaterThan(0);
      expect(new Set(viewers)).toEqual(new Set(['SERVICE:gateway-warm-up']));
      const token = server.seen[0]!;
      expect(token).toMatch(/^Bearer \S{40,}$/);
      // The same header after the warm-up is an unknown token like any other.
      await expect(authenticate(token)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
      // A different token never was the warm-up's.
      await expect(createWarmUp(createLogger('gateway', 'silent')).authenticate(realAuthenticate)(token)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    } finally {
      await server.close();
    }
  });

  it('ends when the gateway cannot reach itself, rather than keeping /ready down', async () => {
    const warmUp = createWarmUp(createLogger('gateway', 'silent'), { maxMs: 5_000 });
    const started = Date.now();
    const report = await warmUp.run('http://127.0.0.1:1/graphql');
    expect(report.requests).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
