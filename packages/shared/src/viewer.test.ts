import { SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ANONYMOUS, createViewerSigner, createViewerVerifier, type Viewer } from './viewer';

const secret = 'a'.repeat(32);
const agent: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId: 'p1', roles: ['AGENT'], subject: 's' };

afterEach(() => {
  vi.useRealTimers();
});

describe('internal viewer tokens', () => {
  it('carry the viewer from the gateway to a subgraph unchanged', async () => {
    const token = await createViewerSigner(secret)(agent);
    expect(await createViewerVerifier(secret)(token)).toEqual(agent);
  });

  it('are rejected when signed with another secret', async () => {
    const token = await createViewerSigner('b'.repeat(32))(agent);
    await expect(createViewerVerifier(secret)(token)).rejects.toThrow(/signature/);
  });

  it('are rejected once expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ viewer: agent })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('loyalty-graph/gateway')
      .setAudience('loyalty-graph/subgraph')
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .sign(new TextEncoder().encode(secret));
    await expect(createViewerVerifier(secret)(token)).rejects.toThrow(/exp/);
  });

  it('stop being accepted after a minute, even once verified', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), toFake: ['Date'] });
    const verify = createViewerVerifier(secret);
    const token = await createViewerSigner(secret)(agent);
    await expect(verify(token)).resolves.toEqual(agent);
    vi.setSystemTime(new Date('2026-01-01T00:01:01Z'));
    await expect(verify(token)).rejects.toThrow(/exp/);
  });

  it('refuse a secret shorter than 32 characters', () => {
    expect(() => createViewerSigner('short')).toThrow(/at least 32/);
    expect(() => createViewerVerifier('x'.repeat(31))).toThrow(/at least 32/);
  });

  it('are reused for the same viewer while fresh, and re-signed before they expire', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), toFake: ['Date'] });
    const sign = createViewerSigner(secret);
    const first = await sign(agent);
    vi.setSystemTime(new Date('2026-01-01T00:00:20Z'));
    expect(await sign({ ...agent })).toBe(first);
    expect(await sign({ ...agent, programId: 'p2' })).not.toBe(first);
    vi.setSystemTime(new Date('2026-01-01T00:00:45Z'));
    expect(await sign(agent)).not.toBe(first);
  });
});
