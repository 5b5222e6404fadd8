import type { Clock } from '../clock';
import type { SubgraphJob } from '../jobs';
import type { EventConsumer } from './consumer';

const DAY_MS = 86_400_000;

/**
 * The job that keeps consumers' processed records from growing with traffic: hourly, it forgets
 * what was processed more than `days` ago. Replays from further back must rebuild (forget).
 */
export function processedEventsRetention(consumers: EventConsumer[], clock: Clock, days = 30): SubgraphJob {
  return {
    name: 'prune-processed-events',
    intervalMs: 3_600_000,
    async run() {
      let pruned = 0;
      for (const consumer of consumers) pruned += await consumer.prune(new Date(clock.now().getTime() - days * DAY_MS));
      return pruned;
    },
  };
}
