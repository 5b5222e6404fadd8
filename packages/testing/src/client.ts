import type { GraphQLFormattedError } from 'graphql';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: GraphQLFormattedError[];
  /** The gateway reports each operation's cost here (`extensions.cost`, docs/limits.md). */
  extensions?: Record<string, unknown>;
  headers: Headers;
}

/** Sends one operation the way a front-end does. */
export async function sendOperation<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: { data?: T | null; errors?: GraphQLFormattedError[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`Non-JSON response (${response.status}): ${text.slice(0, 500)}`);
  }
  return { status: response.status, headers: response.headers, ...body };
}

/** A caller with fixed credentials: `as(token).send(query, variables)`. */
export interface Caller {
  send<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  /** Same, but fails the test on any GraphQL error and returns `data`. */
  data<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

/**
 * `headers` may be a function, asked before every request: a subgraph's internal viewer token
 * lives a minute, and a long test (a property run on a busy machine) outlives the first one.
 */
export function caller(url: string, headers: Record<string, string> | (() => Promise<Record<string, string>>)): Caller {
  const current = async () => (typeof headers === 'function' ? headers() : headers);
  return {
    send: async (query, variables) => sendOperation(url, query, variables, await current()),
    async data<T>(query: string, variables?: Record<string, unknown>) {
      const response = await sendOperation<T>(url, query, variables, await current());
      if (response.errors?.length || !response.data) {
        throw new Error(`GraphQL errors: ${JSON.stringify(response.errors ?? response)}`);
      }
      return response.data;
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** The codes of a response's errors, for assertions. */
export function errorCodes(response: GraphQLResponse<unknown>): string[] {
  return (response.errors ?? []).map((e) => String(e.extensions?.['code']));
}
