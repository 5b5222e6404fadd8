import { describe, expect, it } from 'vitest';
import { viewerFromClaims } from './auth';
import { claimAt, DEFAULT_CLAIMS } from './claims';
import { DEV_AUDIENCE, DEV_ISSUER, GatewayEnv } from './env';

const PROGRAM = '7d0c5a4e-8b5e-4f69-9d0e-2a3f6c1b9e01';

describe('claim paths', () => {
  it('reads plain names, nested paths and namespaced names with dots', () => {
    const claims = { kind: 'member', realm_access: { roles: ['agent'] }, 'https://loyalty.example.com/claims': { programId: PROGRAM }, 'https://loyalty.example.com/kind': 'staff' };
    expect(claimAt(claims, 'kind')).toBe('member');
    expect(claimAt(claims, 'realm_access.roles')).toEqual(['agent']);
    expect(claimAt(claims, 'https://loyalty.example.com/claims.programId')).toBe(PROGRAM);
    expect(claimAt(claims, 'https://loyalty.example.com/kind')).toBe('staff');
    expect(claimAt(claims, 'realm_access.missing')).toBeUndefined();
    expect(claimAt(claims, 'kind.deeper')).toBeUndefined();
  });
});

describe('the viewer from an identity provider’s claims', () => {
  it('a member before enrolment (subject and program) and after (with the member id the provider learned)', () => {
    expect(viewerFromClaims({ sub: 'auth0|ann', kind: 'member', programId: PROGRAM })).toMatchObject({ kind: 'MEMBER', subject: 'auth0|ann', programId: PROGRAM, memberId: null });
    expect(viewerFromClaims({ sub: 'auth0|ann', kind: 'member', programId: PROGRAM, memberId: 'm-1' })).toMatchObject({ memberId: 'm-1' });
  });

  it('Auth0: namespaced custom claims', () => {
    const names = { subject: 'sub', kind: 'https://loyalty.example.com/kind', programId: 'https://loyalty.example.com/program_id', memberId: 'https://loyalty.example.com/member_id', roles: 'https://loyalty.example.com/roles' };
    const viewer = viewerFromClaims({ sub: 'auth0|bob', 'https://loyalty.example.com/kind': 'staff', 'https://loyalty.example.com/program_id': PROGRAM, 'https://loyalty.example.com/roles': ['AGENT'] }, names);
    expect(viewer).toMatchObject({ kind: 'STAFF', subject: 'auth0|bob', programId: PROGRAM, roles: ['AGENT'] });
  });

  it('Keycloak: realm roles nested, lower case, among roles of its own; ours kept, the rest ignored', () => {
    const names = { ...DEFAULT_CLAIMS, kind: 'loyalty.kind', programId: 'loyalty.program_id', roles: 'realm_access.roles' };
    const viewer = viewerFromClaims({ sub: 'f:1:carol', loyalty: { kind: 'staff', program_id: PROGRAM }, realm_access: { roles: ['offline_access', 'agent', 'analyst'] } }, names);
    expect(viewer.roles).toEqual(['AGENT', 'ANALYST']);
  });

  it('Entra ID: the object id as subject, app roles in `roles`, optional claims under extension names', () => {
    const names = { ...DEFAULT_CLAIMS, subject: 'oid', kind: 'extn.loyaltyKind', programId: 'extn.loyaltyProgram' };
    const claims = { sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ', oid: '00000000-0000-0000-66f3-3332eca7ea81', 'extn.loyaltyKind': 'staff', 'extn.loyaltyProgram': PROGRAM, roles: ['Admin'] };
    expect(viewerFromClaims(claims, names)).toMatchObject({ kind: 'STAFF', subject: '00000000-0000-0000-66f3-3332eca7ea81', programId: PROGRAM, roles: ['ADMIN'] });
    expect(() => viewerFromClaims({ ...claims, oid: undefined }, names)).toThrow(/oid/);
  });

  it('refuses, naming the configured claim, a member token without a program and a staff token without a role of ours', () => {
    expect(() => viewerFromClaims({ sub: 'a', kind: 'member' })).toThrow(/programId/);
    expect(() => viewerFromClaims({ sub: 'a', kind: 'staff', programId: PROGRAM, roles: ['offline_access'] })).toThrow(/roles/);
    expect(() => viewerFromClaims({ sub: 'a', kind: 'superuser', programId: PROGRAM })).toThrow(/kind/);
  });
});

describe('the gateway environment', () => {
  const base = { INTERNAL_TOKEN_SECRET: 'x'.repeat(32) };

  it('keeps development’s defaults: the dev issuer and audience, the plain claim names', () => {
    const env = GatewayEnv.parse({ ...base, SUBGRAPHS: 'members=http://127.0.0.1:4001/graphql', JWT_SECRET: 'y'.repeat(32) });
    expect(env).toMatchObject({ NODE_ENV: 'development', JWT_ISSUER: DEV_ISSUER, JWT_AUDIENCE: DEV_AUDIENCE, claims: DEFAULT_CLAIMS });
  });

  it('takes claim names from JWT_CLAIM_*', () => {
    const env = GatewayEnv.parse({ ...base, SUBGRAPHS: 'members=http://x/graphql', JWT_SECRET: 'y'.repeat(32), JWT_CLAIM_ROLES: 'realm_access.roles', JWT_CLAIM_MEMBER_ID: 'loyalty.member_id' });
    expect(env.claims).toEqual({ ...DEFAULT_CLAIMS, roles: 'realm_access.roles', memberId: 'loyalty.member_id' });
  });

  it('in production requires JWT_ISSUER, JWT_AUDIENCE and JWKS_URL, and accepts them', () => {
    const production = { ...base, NODE_ENV: 'production', SUPERGRAPH_PATH: 'supergraph.graphql' };
    const refused = GatewayEnv.safeParse(production);
    expect(refused.success).toBe(false);
    expect(refused.error!.issues.map((i) => i.path[0]).sort()).toEqual(['JWKS_URL', 'JWT_AUDIENCE', 'JWT_ISSUER']);
    const accepted = GatewayEnv.parse({ ...production, JWKS_URL: 'https://idp.example.com/.well-known/jwks.json', JWT_ISSUER: 'https://idp.example.com/', JWT_AUDIENCE: 'https://loyalty.example.com/api' });
    expect(accepted).toMatchObject({ JWT_ISSUER: 'https://idp.example.com/', JWT_AUDIENCE: 'https://loyalty.example.com/api' });
  });
});
