import { SignJWT } from 'jose';
import type { StaffRole } from '@loyalty-graph/shared';

/**
 * Mints access tokens the way an identity provider would, for development and tests only: the
 * gateway in development verifies them with a secret generated at start.
 */
export interface DevTokenIssuer {
  member(claims: { programId: string; subject: string; memberId?: string | null }): Promise<string>;
  staff(claims: { programId: string | null; subject: string; roles: StaffRole[]; scopes?: string[] }): Promise<string>;
}

export function createDevTokenIssuer(options: { secret: string; issuer: string; audience: string; ttl?: string }): DevTokenIssuer {
  const key = new TextEncoder().encode(options.secret);
  const sign = (subject: string, claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject)
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime(options.ttl ?? '12h')
      .sign(key);
  return {
    member: ({ programId, subject, memberId }) => sign(subject, { kind: 'member', programId, ...(memberId ? { memberId } : {}) }),
    staff: ({ programId, subject, roles, scopes }) => sign(subject, { kind: 'staff', roles, ...(programId ? { programId } : {}), ...(scopes?.length ? { scope: scopes.join(' ') } : {}) }),
  };
}
