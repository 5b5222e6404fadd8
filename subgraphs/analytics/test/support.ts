import { randomBytes } from 'node:crypto';
import type { ManualClock, ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { MemoryFeed, startTestSubgraph } from '@loyalty-graph/testing';
import { analyticsSubgraph } from '../src/server';

/**
 * Every producer analytics consumes, each served from memory: a test adds the events it needs to
 * the feeds that matter to it, the others stay empty (analytics polls them all, so all must answer).
 */
export function analyticsFeeds() {
  return { members: new MemoryFeed('members'), ledger: new MemoryFeed('ledger'), catalog: new MemoryFeed('catalog'), partners: new MemoryFeed('partners') };
}

/**
 * Serves the feeds and starts analytics on them against real PostgreSQL. The feeds' stops join
 * `stops` (the test's afterAll stops them after the subgraph); `peers` lets a test start a second
 * replica on the same feeds.
 */
export async function startAnalytics(feeds: Record<string, MemoryFeed>, stops: (() => Promise<void>)[], options: { clock?: ManualClock } = {}) {
  const internalSecret = randomBytes(32).toString('hex');
  const peers: Record<string, string> = {};
  for (const [name, feed] of Object.entries(feeds)) {
    const served = await feed.serve(internalSecret);
    peers[name] = served.url;
    stops.push(served.stop);
  }
  const sub = await startTestSubgraph(analyticsSubgraph as unknown as SubgraphModule<ViewerContext>, { internalSecret, peers, ...options });
  return { sub, peers };
}
