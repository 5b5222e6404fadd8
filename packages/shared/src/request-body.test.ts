import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody, refuseTooLarge } from './request-body';

/** A real server and a real client: what matters is what a client on the wire sees. */
describe('an oversized request body', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      void readBody(req, 1000).then((body) => {
        if (body === null) return refuseTooLarge(req, res, 1000);
        res.end(`ok ${body.length}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  function send(body: Buffer, headers: Record<string, string | number> = {}) {
    return new Promise<{ status: number; connection: string | undefined; text: string }>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text }));
      });
      req.on('error', reject);
      // Written in pieces, as a slow client would.
      for (let offset = 0; offset < body.length; offset += 300) req.write(body.subarray(offset, offset + 300));
      req.end();
    });
  }

  it('reads a body within the limit', async () => {
    expect(await send(Buffer.alloc(1000, 'a'))).toMatchObject({ status: 200, text: 'ok 1000' });
  });

  it('is answered 413 with a GraphQL error and Connection: close, declared or chunked', async () => {
    const variants: Record<string, string | number>[] = [{ 'content-length': 5000 }, { 'transfer-encoding': 'chunked' }];
    for (const headers of variants) {
      const response = await send(Buffer.alloc(5000, 'a'), headers);
      expect(response.status).toBe(413);
      expect(response.connection).toBe('close');
      expect(JSON.parse(response.text)).toEqual({ errors: [{ message: 'The request body is larger than 1000 bytes', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    }
  });

  it('keeps serving afterwards', async () => {
    await send(Buffer.alloc(5000, 'a'));
    expect(await send(Buffer.alloc(10, 'a'))).toMatchObject({ status: 200, text: 'ok 10' });
  });
});
