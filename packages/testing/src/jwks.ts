import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

/**
 * An identity provider as production sees one: an ES256 key pair whose public half is served as a
 * JWKS on a loopback port, and tokens signed with the private half. For tests and benchmarks that
 * run the gateway with NODE_ENV=production (which accepts only JWKS_URL, docs/identity.md).
 */
export interface TestIdentityProvider {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** A token for `subject` with the given claims, this provider's issuer and audience unless overridden. */
  sign(subject: string, claims: JWTPayload, options?: { issuer?: string; audience?: string; ttl?: string }): Promise<string>;
  /** Mints tokens in the gateway's default claim names, like the development issuer (`createDevTokenIssuer`). */
  member(claims: { programId: string; subject: string; memberId?: string | null }): Promise<string>;
  staff(claims: { programId: string | null; subject: string; roles: string[] }): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestIdentityProvider(options: { issuer?: string; audience?: string } = {}): Promise<TestIdentityProvider> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const kid = 'test-key';
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = options.issuer ?? `http://127.0.0.1:${port}/`;
  const audience = options.audience ?? 'https://loyalty.example.com/api';
  const sign: TestIdentityProvider['sign'] = (subject, claims, signOptions = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid })
      .setSubject(subject)
      .setIssuer(signOptions.issuer ?? issuer)
      .setAudience(signOptions.audience ?? audience)
      .setIssuedAt()
      .setExpirationTime(signOptions.ttl ?? '12h')
      .sign(privateKey);
  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    issuer,
    audience,
    sign,
    member: ({ programId, subject, memberId }) => sign(subject, { kind: 'member', programId, ...(memberId ? { memberId } : {}) }),
    staff: ({ programId, subject, roles }) => sign(subject, { kind: 'staff', roles, ...(programId ? { programId } : {}) }),
    stop: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
