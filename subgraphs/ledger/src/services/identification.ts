import type { PeerClient } from '@loyalty-graph/shared/subgraph';
import type { MemberIdentifier } from '../domain/ingestion';

/**
 * The ledger's port to members for "who is this card, email or phone": member ids in input order,
 * null where nobody in the program has the identifier. Throws SUBGRAPH_UNAVAILABLE (retryable)
 * when members does not answer.
 */
export type MemberIdentifiers = (programId: string, identifiers: MemberIdentifier[]) => Promise<(string | null)[]>;

const LOOKUP = `query($programId: ID!, $identifiers: [IdentifierInput!]!) { memberIdsByIdentifiers(programId: $programId, identifiers: $identifiers) }`;

/**
 * Asks members directly, as a service (never its database: identifiers and their normalisation
 * are members' own), in one request for all the identifiers of a call, each distinct one once.
 */
export function membersByIdentifier(members: PeerClient): MemberIdentifiers {
  return async (programId, identifiers) => {
    if (identifiers.length === 0) return [];
    const keyOf = (i: MemberIdentifier) => `${i.type}\u0000${i.value}`;
    const distinct = [...new Map(identifiers.map((i) => [keyOf(i), { type: i.type, value: i.value }])).values()];
    const { memberIdsByIdentifiers } = await members.request<{ memberIdsByIdentifiers: (string | null)[] }>(LOOKUP, { programId, identifiers: distinct });
    const found = new Map(distinct.map((i, n) => [keyOf(i), memberIdsByIdentifiers[n] ?? null]));
    return identifiers.map((i) => found.get(keyOf(i)) ?? null);
  };
}
