import { buildSchema, graphql, GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ACCESS_DIRECTIVE_SDL, allows, applyAccessControl, isOperator, isStaffOf } from './access';
import { ANONYMOUS, type StaffRole, type Viewer } from './viewer';

const staff = (roles: StaffRole[], programId: string | null = 'p1'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: 's' });
const member: Viewer = { ...ANONYMOUS, kind: 'MEMBER', programId: 'p1', subject: 'm', memberId: 'm1' };

function schemaOf(sdl: string) {
  return applyAccessControl(buildSchema(`${ACCESS_DIRECTIVE_SDL}\n${sdl}`));
}

describe('applyAccessControl', () => {
  const schema = schemaOf(`
    type Query {
      secret: String @access(allow: ["ADMIN"])
      hello: String @access(allow: ["PUBLIC"])
    }
  `);
  const rootValue = { secret: 'the secret', hello: 'hi' };
  const run = (source: string, viewer: Viewer) => graphql({ schema, source, rootValue, contextValue: { viewer, requestId: 'r1' } });

  it('refuses to build when a root field does not declare who may call it', () => {
    expect(() => schemaOf('type Query { open: String, hello: String @access(allow: ["PUBLIC"]) }')).toThrow(/Query\.open has no @access/);
  });

  it('refuses to build on an unknown rule name', () => {
    expect(() => schemaOf('type Query { x: String @access(allow: ["ADMINS"]) }')).toThrow(/unknown rule/);
  });

  it('asks anonymous callers to log in', async () => {
    const result = await run('{ secret }', ANONYMOUS);
    expect(result.data).toEqual({ secret: null });
    expect(result.errors?.[0]?.extensions['code']).toBe('UNAUTHENTICATED');
  });

  it('forbids logged-in callers without the right role', async () => {
    for (const viewer of [member, staff(['AGENT'])]) {
      const result = await run('{ secret }', viewer);
      expect(result.data).toEqual({ secret: null });
      expect(result.errors?.[0]).toBeInstanceOf(GraphQLError);
      expect(result.errors?.[0]?.extensions['code']).toBe('FORBIDDEN');
    }
  });

  it('runs the field for the right role and public fields for everyone', async () => {
    expect(await run('{ secret hello }', staff(['AGENT', 'ADMIN']))).toEqual({ data: { secret: 'the secret', hello: 'hi' } });
    expect(await run('{ hello }', ANONYMOUS)).toEqual({ data: { hello: 'hi' } });
  });
});

describe('allows', () => {
  it('matches callers by kind and staff by role', () => {
    expect(allows(ANONYMOUS, ['PUBLIC'])).toBe(true);
    expect(allows(ANONYMOUS, ['MEMBER', 'ADMIN'])).toBe(false);
    expect(allows(member, ['MEMBER'])).toBe(true);
    expect(allows(staff(['ANALYST']), ['ADMIN', 'ANALYST'])).toBe(true);
    expect(allows(staff(['ANALYST']), ['ADMIN', 'MEMBER'])).toBe(false);
    expect(allows({ ...ANONYMOUS, kind: 'SERVICE', subject: 'svc' }, ['SERVICE'])).toBe(true);
    expect(allows({ ...ANONYMOUS, kind: 'PARTNER', subject: 'shop' }, ['MEMBER', 'SERVICE'])).toBe(false);
  });

  it('does not let a member carrying a staff role in their token pass as staff', () => {
    expect(allows({ ...member, roles: ['ADMIN'] }, ['ADMIN'])).toBe(false);
  });
});

describe('scopes', () => {
  const partner = (scopes: string[]): Viewer => ({ ...ANONYMOUS, kind: 'PARTNER', subject: 'client-1', programId: 'p1', partnerId: 'partner-1', scopes });
  const schema = schemaOf(`
    type Query { x: String @access(allow: ["PUBLIC"]) }
    type Mutation {
      record: String @access(allow: ["PARTNER", "AGENT"], scopes: ["purchases:write"])
      settle: String @access(allow: ["PARTNER"], scopes: ["purchases:read", "settlement:read"])
    }
  `);
  const rootValue = { record: 'recorded', settle: 'settled' };
  const run = (source: string, viewer: Viewer) => graphql({ schema, source, rootValue, contextValue: { viewer, requestId: 'r1' } });

  it('let a partner in only with every listed scope', () => {
    expect(allows(partner(['purchases:write']), ['PARTNER'], ['purchases:write'])).toBe(true);
    expect(allows(partner(['purchases:read']), ['PARTNER'], ['purchases:write'])).toBe(false);
    expect(allows(partner([]), ['PARTNER'], ['purchases:write'])).toBe(false);
    expect(allows(partner(['purchases:read', 'settlement:read']), ['PARTNER'], ['purchases:read', 'settlement:read'])).toBe(true);
    expect(allows(partner(['settlement:read']), ['PARTNER'], ['purchases:read', 'settlement:read'])).toBe(false);
    // scopes never let in a kind the field does not allow
    expect(allows(partner(['purchases:write']), ['AGENT'], ['purchases:write'])).toBe(false);
  });

  it('do not restrict other kinds of caller', () => {
    expect(allows(staff(['AGENT']), ['PARTNER', 'AGENT'], ['purchases:write'])).toBe(true);
    expect(allows(staff(['ANALYST']), ['PARTNER', 'AGENT'], ['purchases:write'])).toBe(false);
  });

  it('are enforced on the field: FORBIDDEN naming the missing scope, and the field runs with it', async () => {
    const refused = await run('mutation { record }', partner(['purchases:read']));
    expect(refused.data).toEqual({ record: null });
    expect(refused.errors?.[0]?.extensions['code']).toBe('FORBIDDEN');
    expect(refused.errors?.[0]?.message).toBe('This API key lacks the scope purchases:write');
    const twoMissing = await run('mutation { settle }', partner([]));
    expect(twoMissing.errors?.[0]?.message).toBe('This API key lacks the scope purchases:read, settlement:read');
    expect(await run('mutation { record }', partner(['purchases:write']))).toEqual({ data: { record: 'recorded' } });
    expect(await run('mutation { record }', staff(['AGENT']))).toEqual({ data: { record: 'recorded' } });
    expect((await run('mutation { record }', ANONYMOUS)).errors?.[0]?.extensions['code']).toBe('UNAUTHENTICATED');
  });

  it('refuse to build with a scope nobody can hold, or scopes on a field partners cannot call', () => {
    expect(() => schemaOf('type Query { x: String @access(allow: ["PARTNER"], scopes: ["purchases:writ"]) }')).toThrow(/unknown scope/);
    expect(() => schemaOf('type Query { x: String @access(allow: ["AGENT"], scopes: ["purchases:write"]) }')).toThrow(/scopes restrict partners only/);
  });
});

describe('isStaffOf', () => {
  it('accepts staff with one of the roles in their own program, and operators anywhere', () => {
    expect(isStaffOf(staff(['AGENT']), 'p1', ['ADMIN', 'AGENT'])).toBe(true);
    expect(isStaffOf(staff(['ADMIN'], null), 'p9', ['ADMIN'])).toBe(true);
  });

  it('rejects staff of another program, the wrong role, and non-staff', () => {
    expect(isStaffOf(staff(['ADMIN'], 'p2'), 'p1', ['ADMIN'])).toBe(false);
    expect(isStaffOf(staff(['ANALYST']), 'p1', ['ADMIN', 'AGENT'])).toBe(false);
    expect(isStaffOf({ ...member, roles: ['ADMIN'] }, 'p1', ['ADMIN'])).toBe(false);
  });
});

describe('isOperator', () => {
  it('is an ADMIN bound to no program', () => {
    expect(isOperator(staff(['ADMIN'], null))).toBe(true);
    expect(isOperator(staff(['ADMIN'], 'p1'))).toBe(false);
    expect(isOperator(staff(['AGENT'], null))).toBe(false);
  });
});
