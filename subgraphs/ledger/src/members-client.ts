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

/**
 * Coalesces lookups made at about the same moment by concurrent requests into one call to the
 * members subgraph (up to `maxBatch` ids, waiting at most `windowMs`). Nothing is cached here; the
 * answers are about members, not about the viewer, so sharing the call between requests is safe.
 */
export function batchedDirectory(directory: MemberDirectory, windowMs = 2, maxBatch = 200): MemberDirectory {
  let queue: { id: string; resolve: (info: MemberInfo | null) => void; reject: (error: unknown) => void }[] = [];
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
          new Promise<MemberInfo | null>((resolve, reject) => {
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

/**
 * Remembers what the members subgraph said for `ttlMs`. A member's program never changes; a
 * status or tier change reaches the ledger within the TTL (events from members will make this a
 * projection). Without it every accrual pays an HTTP round trip to members.
 */
export function cachedDirectory(directory: MemberDirectory, ttlMs: number, now: () => number = Date.now): MemberDirectory {
  const cache = new Map<string, { info: MemberInfo | null; until: number }>();
  return async (ids) => {
    const t = now();
    const missing = [...new Set(ids.filter((id) => !((cache.get(id)?.until ?? 0) > t)))];
    if (missing.length) {
      const found = await directory(missing);
      if (cache.size > 100_000) cache.clear();
      // Unknown members are not cached: they may be enrolling right now.
      missing.forEach((id, i) => {
        if (found[i]) cache.set(id, { info: found[i]!, until: t + ttlMs });
      });
      const fresh = new Map(missing.map((id, i) => [id, found[i] ?? null]));
      return ids.map((id) => (fresh.has(id) ? fresh.get(id)! : cache.get(id)!.info));
    }
    return ids.map((id) => cache.get(id)!.info);
  };
}
