import type { DataSource } from 'typeorm';
import type { Clock } from '../clock';
import { peerUnavailable, unauthenticated } from '../errors';
import { snapshotMemberIdBySubject } from '../member-snapshots';
import { REQUEST_ID_HEADER, VIEWER_HEADER, type Viewer } from '../viewer';

/**
 * One rule for "who is this member", applied by the subgraph kit to every request of every
 * subgraph before its context is built (docs/identity.md):
 *
 *   A member is the person whose login subject enrolled in the program the token names. The
 *   token's `memberId` claim is optional; when it is absent the kit fills it in from
 *   (programId, subject); when it is present and the subject enrolled as another member of the
 *   program, the request is refused (UNAUTHENTICATED): the identity provider and the program
 *   disagree about who this is, and neither may win silently.
 *
 * Why here (in every subgraph, through the kit) rather than at the gateway: the gateway would have
 * to call members on every new member token and would stop authenticating members whenever members
 * is down; the kit instead answers from what each subgraph already keeps (members its own table,
 * others the member-snapshot projection, which MemberEnrolled now fills with the subject), so the
 * ledger keeps knowing its members while members is down, and a subgraph added later gets the same
 * rule without writing a line. A miss in the projection (an enrolment whose event has not arrived
 * yet, a member from before the projection carried subjects) is read through from members with the
 * caller's own credentials, so a member who has just enrolled is known at once.
 *
 * Program-scoped: a subject is looked up only within the program the token names (subjects are
 * unique per program, a database constraint in members and in the projection), so a token can
 * never be matched to a member of another program, nor to another person's membership.
 */
export type MemberIdentity = (who: MemberLogin, callerToken: string) => Promise<string | null>;

/** A member token's identity: the program it names, its login subject, and the member id it claims, if any. */
export interface MemberLogin {
  programId: string;
  subject: string;
  claimedMemberId: string | null;
}

/** The viewer with its member id settled by the rule above; other viewers are returned as they are. */
export async function identifyMember(viewer: Viewer, lookup: MemberIdentity, callerToken: string): Promise<Viewer> {
  if (viewer.kind !== 'MEMBER' || !viewer.programId || !viewer.subject) return viewer;
  const enrolledAs = await lookup({ programId: viewer.programId, subject: viewer.subject, claimedMemberId: viewer.memberId }, callerToken);
  if (viewer.memberId && enrolledAs && enrolledAs !== viewer.memberId) {
    // 400, not 401: between gateway and subgraph a 401 means the gateway's internal token was
    // refused (the gateway masks that as its own fault). This is the caller's token contradicting
    // itself, and a 4xx GraphQL answer reaches the caller with its code and message.
    throw unauthenticated('The access token names a member other than the one its subject enrolled as in this program', 400);
  }
  const memberId = viewer.memberId ?? enrolledAs;
  return memberId === viewer.memberId ? viewer : { ...viewer, memberId };
}

/**
 * Remembers found members: the subject → member tie never changes once made (a subject enrols
 * once per program and members are never re-keyed). "Not enrolled" is remembered only for tokens
 * that carry a member id, and only for `claimedMissMs`: for them the lookup is just the check
 * that nothing contradicts the claim (a misconfigured identity provider, not a race), and every
 * request of such a member would otherwise cost a query in every subgraph. For a subject-only
 * token it is never remembered: that member may enrol the next second and must be known at once.
 */
export function rememberingFound(lookup: MemberIdentity, clock: Clock, claimedMissMs = 60_000, maxEntries = 50_000): MemberIdentity {
  const found = new Map<string, string>();
  /** Key → until when (clock ms) "not enrolled" stands, for claim-bearing tokens only. */
  const claimedMisses = new Map<string, number>();
  return async (who, token) => {
    const key = `${who.programId}\u0000${who.subject}`;
    const hit = found.get(key);
    if (hit) return hit;
    const now = clock.now().getTime();
    if (who.claimedMemberId && (claimedMisses.get(key) ?? 0) > now) return null;
    const memberId = await lookup(who, token);
    if (memberId) {
      if (found.size >= maxEntries) found.clear();
      found.set(key, memberId);
    } else if (who.claimedMemberId) {
      if (claimedMisses.size >= maxEntries) claimedMisses.clear();
      claimedMisses.set(key, now + claimedMissMs);
    }
    return memberId;
  };
}

/**
 * Asks members who the caller is (`me`), forwarding the caller's own internal token: it grants
 * nothing the caller does not already have, and members answers by its own table.
 */
export function membersIdentityReadThrough(url: () => string): MemberIdentity {
  return async (_who, token) => {
    const response = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [VIEWER_HEADER]: token, [REQUEST_ID_HEADER]: 'member-identity' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    }).catch(() => {
      // Asked while building the request's context: 503 tells the gateway this part is unavailable
      // and may be retried, rather than an internal error.
      throw peerUnavailable('members', 503);
    });
    if (response.status >= 500) throw peerUnavailable('members', 503);
    const body = (await response.json()) as { data?: { me: { id: string } | null }; errors?: { message: string }[] };
    if (!body.data) throw new Error(`members subgraph answered ${response.status}: ${JSON.stringify(body.errors)}`);
    return body.data.me?.id ?? null;
  };
}

/**
 * For subgraphs that keep member snapshots: the projection first; on a miss, members (see above).
 * A token that carries a member id is not read through on a miss: the projection is then only
 * asked whether its subject contradicts it, and an enrolment too fresh to be there yet cannot be
 * the one the identity provider already knows.
 */
export function snapshotIdentity(db: DataSource, readThrough: MemberIdentity): MemberIdentity {
  return async (who, token) => {
    const known = await snapshotMemberIdBySubject(db, who.programId, who.subject);
    if (known || who.claimedMemberId) return known;
    return readThrough(who, token);
  };
}
