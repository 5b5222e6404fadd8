import { peerUnavailable } from '../errors';
import { createViewerSigner, serviceViewer, VIEWER_HEADER } from '../viewer';
import { consentFacts, type MemberDirectory, type MemberSnapshot } from './snapshots';

const QUERY = `query MemberSnapshots($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Member { id status program { id } tier { id } groups { id } consents { purpose granted } } }
}`;

/**
 * Asks the members subgraph directly, as a service (never through the gateway), one request per
 * batch of ids; unknown ids come back as null. Members answers a service with the member's groups
 * (`Member.groups`) and consents, so a member read through has known groups and consents to partners. The URL is looked up on every call: members may
 * start after the caller, or move.
 */
export function membersReadThrough(url: () => string, caller: string, internalSecret: string): MemberDirectory {
  const sign = createViewerSigner(internalSecret);
  return async (ids) => {
    const response = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [VIEWER_HEADER]: await sign(serviceViewer(caller)) },
      body: JSON.stringify({ query: QUERY, variables: { representations: ids.map((id) => ({ __typename: 'Member', id })) } }),
    }).catch(() => {
      // Down or unreachable: the caller's request can be retried as it is (nothing written yet).
      throw peerUnavailable('members');
    });
    if (response.status >= 500) throw peerUnavailable('members');
    const body = (await response.json()) as {
      data?: { _entities: ({ id: string; status: MemberSnapshot['status']; program: { id: string }; tier: { id: string } | null; groups: { id: string }[]; consents: { purpose: string; granted: boolean }[] } | null)[] };
      errors?: { message: string }[];
    };
    if (!body.data) throw new Error(`members subgraph answered ${response.status}: ${JSON.stringify(body.errors)}`);
    return body.data._entities.map((m) =>
      // Sorted like the projection's, so a member reads the same whichever way they were found.
      m ? { id: m.id, programId: m.program.id, status: m.status, tierId: m.tier?.id ?? null, groupIds: m.groups.map((g) => g.id).sort(), ...consentFacts(m.consents) } : null,
    );
  };
}

/**
 * Coalesces lookups made at about the same moment by concurrent requests into one call (up to
 * `maxBatch` ids, waiting at most `windowMs`). Nothing is cached: the answers are about members,
 * not about the viewer, so sharing the call between requests is safe.
 */
export function batchedDirectory(directory: MemberDirectory, windowMs = 2, maxBatch = 200): MemberDirectory {
  let queue: { id: string; resolve: (info: MemberSnapshot | null) => void; reject: (error: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    const batch = queue;
    queue = [];
    timer = null;
    const ids = [...new Set(batch.map((item) => item.id))];
    directory(ids).then(
      (found) => {
        const byId = new Map(ids.map((id, i) => [id, found[i] ?? null]));
        for (const item of batch) item.resolve(byId.get(item.id) ?? null);
      },
      (error: unknown) => batch.forEach((item) => item.reject(error)),
    );
  };
  return (ids) =>
    Promise.all(
      ids.map(
        (id) =>
          new Promise<MemberSnapshot | null>((resolve, reject) => {
            queue.push({ id, resolve, reject });
            if (queue.length >= maxBatch) {
              if (timer) clearTimeout(timer);
              flush();
            } else {
              timer ??= setTimeout(flush, windowMs);
            }
          }),
      ),
    );
}
