import { createHash } from 'node:crypto';

/**
 * Trusted documents: the operations first-party apps registered at build time, by the sha256 of
 * their text (the APQ hash). Two manifest formats are read:
 *   - Apollo's persisted query manifest, as `@apollo/generate-persisted-query-manifest` and our
 *     `pnpm trusted-documents` write it:
 *     { "format": "apollo-persisted-query-manifest", "version": 1,
 *       "operations": [{ "id": "<sha256 of body>", "name": "…", "type": "query", "body": "…" }] }
 *   - a plain object { "<sha256 of document>": "<document>" }.
 * Every hash is checked against its document at load: a wrong manifest fails the start, not a request.
 */
export type TrustedDocuments = ReadonlyMap<string, string>;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function parseTrustedDocuments(json: string, source = 'manifest'): TrustedDocuments {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`${source} is not JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${source} must be a JSON object`);
  const entries: [string, string][] = [];
  const manifest = parsed as Record<string, unknown>;
  if (manifest['format'] === 'apollo-persisted-query-manifest') {
    if (manifest['version'] !== 1) throw new Error(`${source}: only version 1 of the persisted query manifest is supported`);
    if (!Array.isArray(manifest['operations'])) throw new Error(`${source}: "operations" must be a list`);
    for (const operation of manifest['operations'] as unknown[]) {
      const { id, body } = (operation ?? {}) as Record<string, unknown>;
      if (typeof id !== 'string' || typeof body !== 'string') throw new Error(`${source}: every operation needs a string "id" and "body"`);
      entries.push([id, body]);
    }
  } else {
    for (const [hash, document] of Object.entries(manifest)) {
      if (typeof document !== 'string') throw new Error(`${source}: the value of ${hash} must be the document's text`);
      entries.push([hash, document]);
    }
  }
  const documents = new Map<string, string>();
  for (const [hash, document] of entries) {
    const actual = sha256Hex(document);
    if (actual !== hash.toLowerCase()) throw new Error(`${source}: ${hash} is not the sha256 of its document (${actual})`);
    documents.set(actual, document);
  }
  return documents;
}

/**
 * Apollo Server's APQ cache, seeded with the manifest: a client that sends only
 * `extensions.persistedQuery.sha256Hash` of a registered operation is served at once, without the
 * "PersistedQueryNotFound, send the query" round trip. Operations registered through APQ at run
 * time live next to them, in a bounded map (they are trusted only if the manifest has them too).
 */
export function trustedDocumentsCache(documents: TrustedDocuments, maxEntries = 10_000) {
  const registered = new Map<string, string>();
  // Apollo prefixes keys with "apq:" before they reach the cache.
  const hashOf = (key: string) => (key.startsWith('apq:') ? key.slice(4) : key);
  return {
    async get(key: string): Promise<string | undefined> {
      return documents.get(hashOf(key)) ?? registered.get(key);
    },
    async set(key: string, value: string): Promise<void> {
      if (documents.has(hashOf(key))) return;
      if (registered.size >= maxEntries) registered.clear();
      registered.set(key, value);
    },
    async delete(key: string): Promise<boolean | void> {
      registered.delete(key);
    },
  };
}
