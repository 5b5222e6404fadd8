/**
 * Runs `step` again and again until stopped (a consumer's polls, a relay's publishing). A failing
 * step is retried after an exponential backoff, capped at 10 s; stopping wakes the backoff and
 * waits for the step in hand.
 */
export function runUntilStopped(
  step: (signal: AbortSignal) => Promise<unknown>,
  onFailure: (error: unknown, failures: number) => Promise<void> | void,
  baseDelayMs = 100,
): { stop(): Promise<void> } {
  const abort = new AbortController();
  const loop = (async () => {
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        await step(abort.signal);
        failures = 0;
      } catch (error) {
        if (abort.signal.aborted) break;
        failures++;
        await onFailure(error, failures);
        await sleep(Math.min(baseDelayMs * 2 ** failures, 10_000), abort.signal);
      }
    }
  })();
  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
