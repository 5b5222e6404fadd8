import { createViewerSigner, serviceViewer, VIEWER_HEADER } from '@loyalty-graph/shared';

/** What the ledger needs to know about a member; the members subgraph owns it. */
export interface MemberInfo {
  id: string;
  programId: string;
  status: 'ACTIVE' | 'SUSPENDED' | 'CLOSED';
  tierId: string | null;
}

export type MemberDirectory = (ids: readonly string[]) => Promise<(MemberInfo | null)[]>;

const QUERY = `query LedgerMembers($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Member { id status program { id } tier { id } } }
}`;

/**
 * Asks the members subgraph directly, as a service (never through the gateway), one request per
 * batch of ids. Unknown ids come back as null.
 */
export function createMembersClient(url: string, internalSecret: string): MemberDirectory {
  const sign = createViewerSigner(internalSecret);
  return async (ids) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [VIEWER_HEADER]: await sign(serviceViewer('ledger')) },
      body: JSON.stringify({ query: QUERY, variables: { representations: ids.map((id) => ({ __typename: 'Member', id })) } }),
    });
    const body = (await response.json()) as {
      data?: { _entities: ({ id: string; status: MemberInfo['status']; program: { id: string }; tier: { id: string } | null } | null)[] };
      errors?: { message: string }[];
    };
    if (!body.data) throw new Error(`members subgraph answered ${response.status}: ${JSON.stringify(body.errors)}`);
    return body.data._entities.map((m) => (m ? { id: m.id, programId: m.program.id, status: m.status, tierId: m.tier?.id ?? null } : null));
  };
}
