import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EntityManager } from 'typeorm';
import { ledgerEvents, membersEvents } from '../contracts';
import { consume, emit, mergeConsumptions } from './contract';
import type { EventEnvelope } from './envelope';

/** A transaction that records the statements it is sent. */
function recordingTx() {
  const sent: { sql: string; params: unknown[] }[] = [];
  const tx = { query: async (sql: string, params: unknown[]) => void sent.push({ sql, params }) } as unknown as EntityManager;
  return { tx, sent };
}

const programId = randomUUID();
const memberId = randomUUID();
const enrolment = { programId, memberId, channel: 'SELF' as const, referralId: null, enrolledAt: '2026-11-30T10:00:00.000Z', tierId: null };

function envelope(type: string, payload: Record<string, unknown>, version = 1): EventEnvelope {
  return { id: randomUUID(), producer: 'members', position: 1, aggregateType: 'Member', aggregateId: memberId, aggregateVersion: 1, type, version, payload, occurredAt: '2026-11-30T10:00:00.000Z' };
}

describe('emit', () => {
  it("writes the contract's version and aggregate, taken from the payload", async () => {
    const { tx, sent } = recordingTx();
    await emit(tx, membersEvents, [{ type: 'MemberEnrolled', payload: enrolment }], new Date());
    expect(sent).toHaveLength(1);
    const [types, ids, eventTypes, versions, payloads] = sent[0]!.params as [string[], string[], string[], number[], string[]];
    expect({ types, ids, eventTypes, versions }).toEqual({ types: ['Member'], ids: [memberId], eventTypes: ['MemberEnrolled'], versions: [1] });
    expect(JSON.parse(payloads[0]!)).toEqual(enrolment);
  });

  it('refuses a payload the contract does not describe, before anything is written', async () => {
    const { tx, sent } = recordingTx();
    const extra = { ...enrolment, nickname: 'Al' };
    await expect(emit(tx, membersEvents, [{ type: 'MemberEnrolled', payload: extra }], new Date())).rejects.toThrow(/nickname/);
    const wrong = { ...enrolment, memberId: 'not-a-uuid' };
    await expect(emit(tx, membersEvents, [{ type: 'MemberEnrolled', payload: wrong }], new Date())).rejects.toThrow(/memberId/);
    expect(sent).toEqual([]);
  });

  it('takes the aggregate a contract names: a transfer belongs to its sender', async () => {
    const { tx, sent } = recordingTx();
    const [from, to] = [randomUUID(), randomUUID()];
    await emit(tx, ledgerEvents, [{ type: 'PointsTransferred', payload: { programId, fromMemberId: from, toMemberId: to, points: 5, entryId: randomUUID() } }], new Date());
    expect((sent[0]!.params as string[][])[1]).toEqual([from]);
  });
});

describe('consume', () => {
  it('hands handlers the parsed payload, and ignores fields a newer producer added', async () => {
    const seen: unknown[] = [];
    const { handlers } = consume(membersEvents, { MemberEnrolled: async (_tx, event) => void seen.push(event.payload) }, { does: 'records' });
    await handlers['MemberEnrolled']!({} as EntityManager, envelope('MemberEnrolled', { ...enrolment, addedLater: true }));
    expect(seen).toEqual([enrolment]);
  });

  it('fails an event of a version newer than the consumer knows, or a payload that breaks the contract', async () => {
    const { handlers } = consume(membersEvents, { MemberEnrolled: async () => undefined }, { does: 'nothing' });
    await expect(handlers['MemberEnrolled']!({} as EntityManager, envelope('MemberEnrolled', enrolment, 2))).rejects.toThrow(/version 2 is newer/);
    const { programId: _dropped, ...incomplete } = enrolment;
    await expect(handlers['MemberEnrolled']!({} as EntityManager, envelope('MemberEnrolled', incomplete))).rejects.toThrow(/programId/);
  });

  it("joins two readings of one producer: both handlers run, in order, and solo types stay solo", async () => {
    const ran: string[] = [];
    const [merged, ...rest] = mergeConsumptions([
      consume(membersEvents, { TierChanged: async () => void ran.push('projection') }, { does: 'projects' }),
      consume(membersEvents, { TierChanged: async () => void ran.push('own'), ReferralQualified: async () => undefined }, { solo: true, does: 'pays' }),
      consume(ledgerEvents, { PointsAccrued: async () => undefined }, { does: 'counts' }),
    ]);
    expect(rest.map((c) => c.contract.producer)).toEqual(['ledger']);
    const changed = { programId, memberId, fromTierId: null, toTierId: null, direction: 'UP', reason: 'MANUAL', changedAt: '2026-11-30T10:00:00.000Z' };
    await merged!.handlers['TierChanged']!({} as EntityManager, envelope('TierChanged', changed));
    expect(ran).toEqual(['projection', 'own']);
    expect(merged!.soloTypes.sort()).toEqual(['ReferralQualified', 'TierChanged']);
    expect(merged!.does).toBe('projects; pays');
  });
});
