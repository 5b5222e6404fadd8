import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing';

let graph: TestSupergraph;
beforeAll(async () => {
  graph = await startSupergraph();
});
afterAll(() => graph?.stop());

it('creates a program and enrols a member through the gateway', async () => {
  const operator = await graph.asOperator();
  const { createProgram } = await operator.data<{ createProgram: { program: { id: string } } }>(
    `mutation { createProgram(input: { name: "Fuel", type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "0.01", currency: "EUR" }, status: ACTIVE }) { program { id name pointValue { amount currency } } userErrors { code } } }`,
  );
  const agent = await graph.asStaff(createProgram.program.id, ['AGENT']);
  const res = await agent.send(
    `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: "Ann@Example.com" }] }) { member { id identifiers { type value } } userErrors { code field message } } }`,
    { p: createProgram.program.id },
  );
  expect(res.errors).toBeUndefined();
  expect(res.data).toMatchObject({ enrollMember: { member: { identifiers: [{ type: 'EMAIL', value: 'ann@example.com' }] }, userErrors: [] } });
});
