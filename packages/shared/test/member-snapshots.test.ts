import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@loyalty-graph/shared/db';
import type { EventEnvelope } from '@loyalty-graph/shared/events';
import { memberSnapshotConsumption, MemberSnapshots1764400000000, snapshotDirectory, type MemberDirectory, type MemberSnapshot } from '@loyalty-graph/shared/member-snapshots';
import { createTestDatabase, type TestDatabase } from '@loyalty-graph/testing';
import type { DataSource } from 'typeorm';

let database: TestDatabase;
let db: DataSource;

beforeAll(async () => {
  database = await createTestDatabase('snapshots');
  db = await openDatabase({ url: database.url, entities: [], migrations: [MemberSnapshots1764400000000], applicationName: 'snapshots-test', poolSize: 4 });
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const programId = randomUUID();
const [bronze, silver] = [randomUUID(), randomUUID()];
const { handlers } = memberSnapshotConsumption();

/** Applies a members event as the consumer would: in a transaction, through the contract's parsing. */
async function apply(type: string, memberId: string, aggregateVersion: number, payload: Record<string, unknown>): Promise<void> {
  const event: EventEnvelope = {
    id: randomUUID(),
    producer: 'members',
    position: aggregateVersion,
    aggregateType: 'Member',
    aggregateId: memberId,
    aggregateVersion,
    type,
    version: 1,
    payload: { programId, memberId, ...payload },
    occurredAt: new Date().toISOString(),
  };
  await db.transaction((tx) => handlers[type]!(tx, event));
}

const enrolled = (tierId: string | null | undefined) => ({ channel: 'AGENT', referralId: null, enrolledAt: new Date().toISOString(), ...(tierId === undefined ? {} : { tierId }) });
const statusChange = (fromStatus: string, toStatus: string) => ({ fromStatus, toStatus, reason: 'test', changedAt: new Date().toISOString() });
const tierChange = (fromTierId: string | null, toTierId: string | null) => ({ fromTierId, toTierId, direction: 'UP', reason: 'QUALIFIED', changedAt: new Date().toISOString() });

/** A read-through that records what it was asked and answers from a map. */
function members(known: Record<string, MemberSnapshot>) {
  const asked: string[][] = [];
  const directory: MemberDirectory = async (ids) => {
    asked.push([...ids]);
    return ids.map((id) => known[id] ?? null);
  };
  return { directory, asked };
}

describe('the member-snapshot projection', () => {
  it('follows enrolment, status and tier changes, and answers known members without asking members', async () => {
    const id = randomUUID();
    await apply('MemberEnrolled', id, 1, enrolled(bronze));
    const readThrough = members({});
    const directory = snapshotDirectory(db, readThrough.directory);
    expect(await directory([id])).toEqual([{ id, programId, status: 'ACTIVE', tierId: bronze }]);

    await apply('MemberStatusChanged', id, 2, statusChange('ACTIVE', 'SUSPENDED'));
    await apply('TierChanged', id, 3, tierChange(bronze, silver));
    expect(await directory([id])).toEqual([{ id, programId, status: 'SUSPENDED', tierId: silver }]);
    expect(readThrough.asked).toEqual([]);
  });

  it('never goes back to an older state when an event it already applied comes again', async () => {
    const id = randomUUID();
    await apply('MemberEnrolled', id, 1, enrolled(bronze));
    await apply('MemberStatusChanged', id, 2, statusChange('ACTIVE', 'SUSPENDED'));
    await apply('TierChanged', id, 3, tierChange(bronze, silver));
    // A rewind that did not empty the table delivers the history again.
    await apply('MemberEnrolled', id, 1, enrolled(bronze));
    await apply('MemberStatusChanged', id, 2, statusChange('ACTIVE', 'SUSPENDED'));
    await apply('TierChanged', id, 3, tierChange(bronze, silver));
    await apply('TierChanged', id, 2, tierChange(silver, bronze));
    expect(await snapshotDirectory(db, members({}).directory)([id])).toEqual([{ id, programId, status: 'SUSPENDED', tierId: silver }]);
  });

  it('reads through members it does not hold (just enrolled, or from before the projection), in one call, without storing them', async () => {
    const fresh = randomUUID();
    const legacy = randomUUID();
    const unknown = randomUUID();
    // An enrolment event from before MemberEnrolled carried the tier: the first tier is unknown here.
    await apply('MemberEnrolled', legacy, 1, enrolled(undefined));
    await apply('MemberStatusChanged', legacy, 2, statusChange('ACTIVE', 'SUSPENDED'));
    const readThrough = members({
      [fresh]: { id: fresh, programId, status: 'ACTIVE', tierId: bronze },
      [legacy]: { id: legacy, programId, status: 'SUSPENDED', tierId: silver },
    });
    const directory = snapshotDirectory(db, readThrough.directory);
    expect(await directory([fresh, legacy, unknown, fresh, 'not-a-uuid'])).toEqual([
      { id: fresh, programId, status: 'ACTIVE', tierId: bronze },
      { id: legacy, programId, status: 'SUSPENDED', tierId: silver },
      null,
      { id: fresh, programId, status: 'ACTIVE', tierId: bronze },
      null,
    ]);
    expect(readThrough.asked).toEqual([[fresh, legacy, unknown]]);
    const stored = (await db.query(`SELECT member_id FROM member_snapshots WHERE member_id = ANY($1::uuid[])`, [[fresh, legacy, unknown]])) as unknown[];
    expect(stored).toEqual([]);
  });

  it('fails a payload that does not match the contract instead of storing half of it', async () => {
    const id = randomUUID();
    await expect(apply('MemberEnrolled', id, 1, { ...enrolled(bronze), channel: 'CARRIER_PIGEON' })).rejects.toThrow(/channel/);
    expect(await snapshotDirectory(db, members({}).directory)([id])).toEqual([null]);
  });
});
