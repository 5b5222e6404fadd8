import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { edgeFromEnv } from './edge';

describe('edgeFromEnv', () => {
  it('reads tokens with the claim names the deployment mapped, as the gateway does', async () => {
    const secret = randomBytes(32).toString('hex');
    const edge = edgeFromEnv({
      INTERNAL_TOKEN_SECRET: randomBytes(32).toString('hex'),
      JWT_ISSUER: 'https://idp.example/',
      JWT_AUDIENCE: 'loyalty-graph',
      JWT_SECRET: secret,
      JWT_CLAIM_KIND: 'https://loyalty.example/kind',
      JWT_CLAIM_PROGRAM_ID: 'https://loyalty.example/program',
    });
    const token = await new SignJWT({ 'https://loyalty.example/kind': 'member', 'https://loyalty.example/program': 'p-1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('idp|ada')
      .setIssuer('https://idp.example/')
      .setAudience('loyalty-graph')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));
    await expect(edge.authenticate(`Bearer ${token}`)).resolves.toMatchObject({ kind: 'MEMBER', subject: 'idp|ada', programId: 'p-1' });
  });
});
