import { startStack } from './stack';
import { hiveTargets } from './hive';
const stack = await startStack({ members: 100 });
const extra = await hiveTargets(stack, stack.internalSecret);
const DASH = JSON.stringify({ query: `query Dashboard { me { id firstName status tier { name rank } points { available pending held lifetimeEarned statusPoints } } }` });
const tokens = await Promise.all(stack.memberIds.slice(0, 64).map(async (id, i) => await stack.tokens.member({ programId: stack.programId, memberId: id, subject: `m-${i}` })));
for (const t of [{ name: 'ours', url: stack.gatewayUrl }, ...extra]) {
  const answers = await Promise.all(tokens.map(async (tok) => (await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` }, body: DASH })).text()));
  const kinds = new Map<string, number>();
  for (const a of answers) { const k = a.includes('"errors"') ? a.slice(0, 200) : 'data ok'; kinds.set(k, (kinds.get(k) ?? 0) + 1); }
  console.log(t.name, JSON.stringify([...kinds]));
}
for (const t of extra) await t.stop?.();
await stack.stop();
process.exit(0);
