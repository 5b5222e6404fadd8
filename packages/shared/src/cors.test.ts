import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { APOLLO_SANDBOX_ORIGIN, corsConfigFromEnv, corsOriginsField, isOriginAllowed } from './cors';
import { EnvError, parseEnv } from './env';

const Env = z.object({ CORS_ORIGINS: corsOriginsField() });

function config(value: string | undefined, production: boolean) {
  const env = parseEnv(Env, value === undefined ? {} : { CORS_ORIGINS: value });
  return corsConfigFromEnv(env.CORS_ORIGINS, production);
}

describe('CORS_ORIGINS', () => {
  it('allows nothing in production unless set', () => {
    const cors = config(undefined, true);
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:3000', APOLLO_SANDBOX_ORIGIN]) expect(isOriginAllowed(cors, origin), origin).toBe(false);
  });

  it('allows localhost on any port and Apollo Sandbox in development unless set', () => {
    const cors = config(undefined, false);
    for (const origin of ['http://localhost:5173', 'https://localhost:8443', 'http://127.0.0.1:3000', 'http://[::1]:8080', 'http://localhost', APOLLO_SANDBOX_ORIGIN]) {
      expect(isOriginAllowed(cors, origin), origin).toBe(true);
    }
    // Look-alikes of a loopback host are other sites.
    for (const origin of ['http://localhost.evil.example', 'http://127.0.0.1.nip.io:3000', 'http://evil.example', 'null', 'file://', 'http://user@localhost:3000', 'http://localhost:3000/path']) {
      expect(isOriginAllowed(cors, origin), origin).toBe(false);
    }
  });

  it('is the whole list when set, in development too, matched exactly', () => {
    const cors = config(' https://app.example.com , http://localhost:5173 ', false);
    expect(isOriginAllowed(cors, 'https://app.example.com')).toBe(true);
    expect(isOriginAllowed(cors, 'http://localhost:5173')).toBe(true);
    for (const origin of ['http://localhost:5174', 'http://app.example.com', 'https://app.example.com:8443', 'https://evil.app.example.com', APOLLO_SANDBOX_ORIGIN]) {
      expect(isOriginAllowed(cors, origin), origin).toBe(false);
    }
  });

  it('set empty, allows no origin', () => {
    expect(isOriginAllowed(config('', false), 'http://localhost:5173')).toBe(false);
  });

  it('refuses entries that are not exact origins, naming each', () => {
    let message = '';
    try {
      config('*,https://app.example.com/,app.example.com,ftp://files.example.com,https://App.Example.com,https://ok.example.com:443', true);
    } catch (error) {
      expect(error).toBeInstanceOf(EnvError);
      message = (error as Error).message;
    }
    expect(message).toContain('"*" is not allowed');
    expect(message).toContain('"https://app.example.com/" is not an exact origin (the browser would send "https://app.example.com")');
    expect(message).toContain('"app.example.com" is not an origin');
    expect(message).toContain('"ftp://files.example.com" must start with http:// or https://');
    expect(message).toContain('"https://App.Example.com" is not an exact origin');
    expect(message).toContain('"https://ok.example.com:443" is not an exact origin');
  });
});
