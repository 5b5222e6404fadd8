import { inputFieldDescriptions } from '@loyalty-graph/testing/schema-docs';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { WebhookSecretCipher, parseWebhookKey } from './webhook-cipher';
import {
  checkEndpointUrl,
  DISABLE_AFTER_MS,
  generateWebhookSecret,
  isPublicAddress,
  MAX_TRIES,
  messageBody,
  messageId,
  RETRY_DELAYS_MS,
  responseSnippet,
  retryDelayMs,
  secretKey,
  shouldDisable,
  signatureHeader,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_LIMITS,
} from './webhooks';

const ENDPOINT = '0b5d7a8e-2f44-4c59-9a43-5d2d1c7f4a10';
const EVENT = '9e0c1f3a-7b6d-4e21-8c55-0a9b8c7d6e5f';

describe('webhook signatures', () => {
  it('verify with the standardwebhooks library (an independent implementation of the convention)', () => {
    const secret = generateWebhookSecret();
    const id = messageId(ENDPOINT, EVENT);
    const timestamp = Math.floor(Date.now() / 1000);
    const body = messageBody('purchase.recorded', '2026-06-01T10:00:00.000Z', { purchaseId: EVENT, points: 120 });
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatureHeader([secret], id, timestamp, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    // A changed body, id or another secret fails.
    expect(() => new Webhook(secret).verify(body.replace('120', '121'), headers)).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': messageId(ENDPOINT, ENDPOINT) })).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });

  it('carry one signature per live secret during a rotation: either secret verifies', () => {
    const [current, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const id = messageId(ENDPOINT, EVENT);
    const timestamp = Math.floor(Date.now() / 1000);
    const body = messageBody('statement.closed', '2026-06-01T10:00:00.000Z', {});
    const signature = signatureHeader([current, previous], id, timestamp, body);
    expect(signature.split(' ')).toHaveLength(2);
    for (const secret of [current, previous]) expect(new Webhook(secret).verify(body, { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature })).toBeTruthy();
  });

  it('secrets are whsec_ + base64 of 32 random bytes, never twice the same', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretKey(a)).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(a);
    expect(() => secretKey('whsec_c2hvcnQ=')).toThrow(/24 to 64/);
  });

  it('message ids are msg_ + 32 hex, the same for the same endpoint and event, different otherwise', () => {
    expect(messageId(ENDPOINT, EVENT)).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(messageId(ENDPOINT, EVENT)).toBe(messageId(ENDPOINT, EVENT));
    expect(messageId(EVENT, ENDPOINT)).not.toBe(messageId(ENDPOINT, EVENT));
  });
});

describe('the retry schedule', () => {
  it('tries 11 times over about three days, then dead-letters', () => {
    const total = RETRY_DELAYS_MS.reduce((sum, ms) => sum + ms, 0);
    expect(total / 3_600_000).toBeGreaterThan(60);
    expect(total / 3_600_000).toBeLessThan(80);
    expect(MAX_TRIES).toBe(11);
    expect(retryDelayMs(MAX_TRIES - 1, () => 0.5)).toBe(RETRY_DELAYS_MS.at(-1));
    expect(retryDelayMs(MAX_TRIES, () => 0.5)).toBeNull();
  });

  it('grows from seconds to hours with ±10 % jitter', () => {
    expect(retryDelayMs(1, () => 0)).toBe(4_500);
    expect(retryDelayMs(1, () => 1)).toBe(5_500);
    expect(retryDelayMs(2, () => 0.5)).toBe(300_000);
    expect(retryDelayMs(5, () => 0.5)).toBe(5 * 3_600_000);
  });

  it('disables an endpoint only after every attempt failed for 5 days', () => {
    const since = new Date('2026-06-01T00:00:00Z');
    expect(shouldDisable(null, new Date('2026-07-01T00:00:00Z'))).toBe(false);
    expect(shouldDisable(since, new Date(since.getTime() + DISABLE_AFTER_MS - 1))).toBe(false);
    expect(shouldDisable(since, new Date(since.getTime() + DISABLE_AFTER_MS))).toBe(true);
  });
});

describe('endpoint URLs', () => {
  it('must be https, or http to localhost outside production', () => {
    expect(checkEndpointUrl(' https://hooks.example.com/loyalty ', 'url', true)).toBe('https://hooks.example.com/loyalty');
    expect(checkEndpointUrl('http://receiver.internal:8080/x', 'url', false)).toBe('http://receiver.internal:8080/x');
    expect(() => checkEndpointUrl('http://hooks.example.com/x', 'url', true)).toThrow(/https/);
    expect(() => checkEndpointUrl('ftp://hooks.example.com/x', 'url', false)).toThrow(/https/);
    expect(() => checkEndpointUrl('not a url', 'url', false)).toThrow(/absolute/);
    expect(() => checkEndpointUrl('https://user:pw@hooks.example.com/', 'url', false)).toThrow(/credentials/);
  });

  it('refuse private, loopback and link-local hosts in production (SSRF), localhost included', () => {
    for (const url of ['https://10.0.0.5/x', 'https://192.168.1.1/', 'https://172.20.0.1/', 'https://169.254.169.254/latest/meta-data', 'http://127.0.0.1:8080/', 'https://[::1]/', 'https://[fd00::1]/', 'http://localhost/']) {
      expect(() => checkEndpointUrl(url, 'url', true), url).toThrow();
    }
    expect(checkEndpointUrl('http://127.0.0.1:8080/hook', 'url', false)).toBe('http://127.0.0.1:8080/hook');
  });

  it('tell public addresses from the rest', () => {
    expect(isPublicAddress('93.184.216.34')).toBe(true);
    expect(isPublicAddress('2606:2800:220:1::1')).toBe(true);
    for (const ip of ['10.1.2.3', '127.0.0.1', '100.64.0.1', '169.254.1.1', '172.31.255.255', '192.168.0.1', '0.0.0.0', '224.0.0.1', '::1', 'fe80::1', 'fc00::1', '::ffff:10.0.0.1']) {
      expect(isPublicAddress(ip), ip).toBe(false);
    }
  });
});

describe('secrets at rest', () => {
  it('decrypt only with the same key and for the same endpoint', () => {
    const cipher = WebhookSecretCipher.random();
    const secret = generateWebhookSecret();
    const stored = cipher.encrypt(secret, ENDPOINT);
    expect(stored.includes(Buffer.from(secret))).toBe(false);
    expect(cipher.decrypt(stored, ENDPOINT)).toBe(secret);
    expect(() => cipher.decrypt(stored, EVENT)).toThrow();
    expect(() => WebhookSecretCipher.random().decrypt(stored, ENDPOINT)).toThrow();
  });

  it('the key is base64 of 32 bytes', () => {
    expect(parseWebhookKey(Buffer.alloc(32, 7).toString('base64'))).toHaveLength(32);
    expect(() => parseWebhookKey('c2hvcnQ=')).toThrow(/32 random bytes/);
  });
});

it('response snippets keep at most 500 characters', () => {
  expect(responseSnippet('ok')).toBe('ok');
  expect(responseSnippet('x'.repeat(2_000))).toHaveLength(501);
});

describe('the schema documents the webhook limits', () => {
  const fields = inputFieldDescriptions(new URL('../../schema.graphql', import.meta.url));
  const shown = (n: number) => n.toLocaleString('en-US');
  it.each([
    ['CreateWebhookEndpointInput.url', shown(WEBHOOK_LIMITS.urlLength)],
    ['UpdateWebhookEndpointInput.url', shown(WEBHOOK_LIMITS.urlLength)],
    ['CreateWebhookEndpointInput.description', shown(WEBHOOK_LIMITS.descriptionLength)],
    ['UpdateWebhookEndpointInput.description', shown(WEBHOOK_LIMITS.descriptionLength)],
    ['CreateWebhookEndpointInput.eventTypes', `1 to ${Object.keys(WEBHOOK_EVENT_TYPES).length}`],
    ['RotateWebhookSecretInput.overlapMinutes', `0 to ${shown(WEBHOOK_LIMITS.overlapMinutes)}`],
  ])('%s says %s', (field, limit) => {
    expect(fields.get(field)).toContain(limit);
  });
});
