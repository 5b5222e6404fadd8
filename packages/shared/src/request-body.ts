import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from './errors';

/** Requests larger than this are refused before parsing: GraphQL operations are small. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * How much of an oversized body we read and throw away before answering 413, and for how long.
 * Answering while the client is still sending and then closing makes the kernel reset the
 * connection, and most clients then report ECONNRESET instead of the 413 (the reason the old code,
 * which destroyed the request, looked like a network failure). Past these bounds we answer anyway
 * and close: a client streaming gigabytes gets no more of our time.
 */
const DRAIN_BYTES = 16 * MAX_BODY_BYTES;
const DRAIN_MS = 5_000;

/** The body as text, or null when it is over `MAX_BODY_BYTES` (the rest is being drained). */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string | null> {
  const declared = Number(req.headers['content-length']);
  // A declared length over the limit is refused before a byte is buffered.
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        chunks.length = 0;
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/**
 * Answers 413 with a GraphQL-shaped error and `Connection: close`, after draining what the client
 * still sends (bounded by DRAIN_BYTES and DRAIN_MS), so it reads the answer rather than a reset.
 */
export function refuseTooLarge(req: IncomingMessage, res: ServerResponse, limit = MAX_BODY_BYTES): Promise<void> {
  return new Promise((resolve) => {
    let answered = false;
    let drained = 0;
    const answer = () => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      req.off('data', onData);
      const body = JSON.stringify({
        errors: [{ message: `The request body is larger than ${limit} bytes`, extensions: { code: ErrorCode.PAYLOAD_TOO_LARGE } }],
      });
      res.shouldKeepAlive = false;
      res.writeHead(413, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
      res.end(body, () => {
        // Whatever is still coming is not ours to read: close once the answer is out.
        if (!req.complete) req.socket.destroySoon();
        resolve();
      });
    };
    const onData = (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_BYTES) answer();
    };
    const timer = setTimeout(answer, DRAIN_MS);
    timer.unref();
    if (req.complete || req.readableEnded) return answer();
    req.on('data', onData);
    req.once('end', answer);
    req.once('error', answer);
    req.resume();
  });
}
