/**
 * Demo history for analytics, through the graph as the program's admin would make it: a year of
 * purchases (so KPIs, cohorts, RFM, breakage and backtests have something to show), a few
 * redemptions, a holdout with a running experiment, and an open NPS survey with answers. Every
 * write has a fixed key or is looked up by name first, so a restart adds nothing twice.
 */

type Send = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

export function graphClient(url: string, token: string, what: string): Send {
  return async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as { data?: T; errors?: unknown };
    if (body.errors || !body.data) throw new Error(`${what}: ${JSON.stringify(body.errors)}`);
    return body.data;
  };
}

/** A deterministic pseudo-random number in [0, 1) for (seed, i): the same history at every start. */
function unit(seed: number, i: number): number {
  let x = (seed * 2_654_435_761 + i * 40_503 + 12_345) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x45d9f3b) >>> 0;
  x ^= x >>> 16;
  // XOR leaves a signed 32-bit integer: back to unsigned before scaling.
  return (x >>> 0) / 2 ** 32;
}

const DAY = 86_400_000;

/**
 * About 1,500 purchases by the first 300 members over the last 360 days: most buy once or twice, a
 * few often (the usual long tail), in stores and online, some of it fuel (the demo rules give fuel
 * double points). Transaction ids are fixed, so a restart finds them ALREADY_RECORDED.
 */
export async function recordDemoHistory(send: Send, memberIds: string[], now: Date): Promise<number> {
  const lines: Record<string, unknown>[] = [];
  memberIds.slice(0, 300).forEach((memberId, m) => {
    const r = unit(1, m);
    const purchases = r < 0.45 ? 1 : r < 0.75 ? 3 : r < 0.93 ? 8 : 20;
    for (let p = 0; p < purchases; p++) {
      const daysAgo = Math.floor(unit(2, m * 100 + p) * 360) + 1;
      const amount = (10 + Math.floor(unit(3, m * 100 + p) * 9_000) / 100).toFixed(2);
      const fuel = unit(4, m * 100 + p) < 0.3;
      lines.push({
        transactionId: `demo-history-${m}-${p}`,
        memberId,
        occurredAt: new Date(now.getTime() - daysAgo * DAY).toISOString(),
        basket: { currency: 'EUR', channel: unit(5, m * 100 + p) < 0.7 ? 'STORE' : 'ONLINE', lines: [{ lineId: '1', sku: fuel ? 'FUEL-95' : 'BASKET', category: fuel ? 'fuel' : 'grocery', quantity: 1, amount }] },
      });
    }
  });
  let recorded = 0;
  for (let i = 0; i < lines.length; i += 500) {
    const { recordPurchases } = await send<{ recordPurchases: { recorded: number } }>(
      `mutation($i: RecordPurchasesInput!) { recordPurchases(input: $i) { recorded } }`,
      { i: { source: 'demo-pos', lines: lines.slice(i, i + 500) } },
    );
    recorded += recordPurchases.recorded;
  }
  return recorded;
}

/** Every tenth of the first 300 members spends 100 points (a hold, captured): redemptions for breakage and the redemption rate. */
export async function redeemDemoPoints(send: Send, memberIds: string[]): Promise<void> {
  for (let m = 0; m < Math.min(300, memberIds.length); m += 10) {
    const { holdPoints } = await send<{ holdPoints: { hold: { id: string; status: string } | null } }>(
      `mutation($i: HoldPointsInput!) { holdPoints(input: $i) { hold { id status } userErrors { code } } }`,
      { i: { idempotencyKey: `demo-redeem-hold-${m}`, memberId: memberIds[m], points: 100, reference: 'demo redemption' } },
    );
    // Members who earned under 100 points cannot hold them: skipped, as a real redemption would be refused.
    if (!holdPoints.hold) continue;
    await send(`mutation($i: HoldActionInput!) { captureHold(input: $i) { hold { status } } }`, { i: { idempotencyKey: `demo-redeem-capture-${m}`, holdId: holdPoints.hold.id } });
  }
}

/** A 5 % holdout and a running 30-day experiment: double points for half of the members. */
export async function startDemoExperiment(send: Send, programId: string, now: Date): Promise<void> {
  await send(`mutation($i: ConfigureHoldoutInput!) { configureHoldout(input: $i) { userErrors { code message } } }`, { i: { programId, share: '5', idempotencyKey: 'demo-holdout' } });
  const { program } = await send<{ program: { experiments: { id: string; name: string }[] } }>(`query($p: ID!) { program(id: $p) { experiments { id name } } }`, { p: programId });
  const name = 'Double points for a month';
  if (program.experiments.some((e) => e.name === name)) return;
  const { createExperiment } = await send<{ createExperiment: { experiment: { id: string } | null; userErrors: unknown[] } }>(
    `mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { experiment { id } userErrors { code message } } }`,
    {
      i: {
        programId,
        idempotencyKey: `demo-experiment-${now.toISOString().slice(0, 10)}`,
        name,
        hypothesis: 'Double points make members buy more often',
        variants: [
          { key: 'control', weight: 50 },
          { key: 'double', weight: 50, earnMultiplier: '2' },
        ],
        startsAt: now.toISOString(),
        plannedEndAt: new Date(now.getTime() + 30 * DAY).toISOString(),
        primaryMetric: 'FREQUENCY',
      },
    },
  );
  if (!createExperiment.experiment) throw new Error(`demo experiment: ${JSON.stringify(createExperiment.userErrors)}`);
  await send(`mutation($i: ExperimentInput!) { startExperiment(input: $i) { userErrors { code message } } }`, { i: { experimentId: createExperiment.experiment.id } });
}

/** An NPS survey open for 30 days to every active member, with 60 answers given by the hotline on members' behalf. */
export async function openDemoSurvey(send: Send, programId: string, memberIds: string[], now: Date): Promise<void> {
  const { program } = await send<{ program: { surveys: { id: string; title: string }[] } }>(`query($p: ID!) { program(id: $p) { surveys { id title } } }`, { p: programId });
  const title = 'How likely are you to recommend us?';
  let surveyId = program.surveys.find((s) => s.title === title)?.id;
  if (!surveyId) {
    const { createSurvey } = await send<{ createSurvey: { id: string } }>(`mutation($i: CreateSurveyInput!) { createSurvey(input: $i) { id } }`, {
      i: {
        programId,
        idempotencyKey: `demo-survey-${now.toISOString().slice(0, 10)}`,
        title,
        questions: [
          { key: 'nps', kind: 'NPS', prompt: 'How likely are you to recommend the program to a friend (0–10)?', required: true },
          { key: 'why', kind: 'TEXT', prompt: 'What is the main reason for your score?', required: false },
        ],
        opensAt: now.toISOString(),
        closesAt: new Date(now.getTime() + 30 * DAY).toISOString(),
      },
    });
    surveyId = createSurvey.id;
  }
  for (let m = 0; m < Math.min(60, memberIds.length); m++) {
    // About 45 % promoters, 30 % passives, 25 % detractors: a typical retail NPS of about +20.
    const r = unit(6, m);
    const score = r < 0.25 ? Math.floor((r / 0.25) * 7) : r < 0.55 ? 7 + Math.floor(((r - 0.25) / 0.3) * 2) : 9 + Math.floor(((r - 0.55) / 0.45) * 2);
    try {
      await send(`mutation($i: AnswerSurveyInput!) { answerSurvey(input: $i) { answeredAt } }`, {
        i: { surveyId, memberId: memberIds[m], answers: [{ key: 'nps', score }, ...(score <= 6 ? [{ key: 'why', text: 'Rewards are too far away' }] : [])] },
      });
    } catch (error) {
      // Answered at an earlier start (CONFLICT), or not in the audience: nothing to add.
      if (!/CONFLICT|FORBIDDEN/.test(String(error))) throw error;
    }
  }
}

/**
 * Waits (up to a minute) until analytics has applied every event the other subgraphs have
 * published: the survey's audience and the experiment's assignments are taken from what analytics
 * knows, so the demo members must have arrived first. Asked as a platform operator.
 */
export async function analyticsCaughtUp(operator: Send): Promise<void> {
  const deadline = Date.now() + 60_000;
  let calm = 0;
  while (Date.now() < deadline) {
    const { analyticsOperations } = await operator<{ analyticsOperations: { consumers: { lag: string }[] } }>(`{ analyticsOperations { consumers { lag } } }`);
    calm = analyticsOperations.consumers.every((c) => c.lag === '0') ? calm + 1 : 0;
    if (calm >= 2) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('analytics did not catch up with the demo events within a minute (see analyticsOperations)');
}

/** Two segments an analyst would start with: frequent buyers (RFM frequency 4–5) and lapsing members (no purchase for 90 days). Created once, by name. */
export async function createDemoSegments(send: Send, programId: string): Promise<string[]> {
  const { program } = await send<{ program: { segments: { id: string; name: string }[] } }>(`query($p: ID!) { program(id: $p) { segments { id name } } }`, { p: programId });
  const wanted = [
    { name: 'Frequent buyers', description: 'RFM frequency score 4 or 5', visibleToMembers: true, rules: { rfm: { f: { min: 4 } } } },
    { name: 'Lapsing', description: 'Bought before, but not in the last 90 days', visibleToMembers: false, rules: { notPurchasedWithinDays: 90, spend: { min: '0.01' } } },
  ];
  const ids: string[] = [];
  for (const segment of wanted) {
    const found = program.segments.find((s) => s.name === segment.name);
    if (found) {
      ids.push(found.id);
      continue;
    }
    const { createSegment } = await send<{ createSegment: { segment: { id: string } | null; userErrors: unknown[] } }>(
      `mutation($i: CreateSegmentInput!) { createSegment(input: $i) { segment { id } userErrors { code message field } } }`,
      { i: { programId, idempotencyKey: `demo-segment-${segment.name.toLowerCase().replace(/\W+/g, '-')}`, ...segment } },
    );
    if (!createSegment.segment) throw new Error(`demo segment: ${JSON.stringify(createSegment.userErrors)}`);
    ids.push(createSegment.segment.id);
  }
  await send(`mutation($p: ID!) { setMembersSeeSegments(input: { programId: $p, membersSeeSegments: true }) { membersSeeSegments } }`, { p: programId });
  return ids;
}
