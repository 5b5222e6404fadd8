import { describe, expect, it } from 'vitest';
import { joinResolvers, subgraphSdl } from './define';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

describe('joining a subgraph to the platform', () => {
  it("refuses a field both resolve, instead of letting one silently win", () => {
    const platform = { Query: { membersOperations: () => null }, DateTime: {} };
    expect(() => joinResolvers(platform, { Query: { membersOperations: () => null } })).toThrow(/Query.membersOperations is resolved by the platform/);
    expect(joinResolvers(platform, { Query: { me: () => null }, Member: {} })).toEqual({ Query: { membersOperations: expect.any(Function), me: expect.any(Function) }, DateTime: {}, Member: {} });
  });

  it('builds a federation schema with the platform types once and the operators fields named after the subgraph', () => {
    const own = 'type Query { hello: String @access(allow: ["PUBLIC"]) }';
    const withReplay = buildSubgraphSchema(parse(subgraphSdl('rewards', own, { consumes: true })));
    expect(Object.keys(withReplay.getQueryType()!.getFields())).toEqual(expect.arrayContaining(['hello', 'rewardsOperations']));
    expect(Object.keys(withReplay.getMutationType()!.getFields())).toEqual(['replayRewardsDeadLetter']);
    expect(withReplay.getType('Money')).toBeDefined();
    const withoutEvents = buildSubgraphSchema(parse(subgraphSdl('rewards', own, { consumes: false })));
    expect(withoutEvents.getMutationType()).toBeFalsy();
  });
});
