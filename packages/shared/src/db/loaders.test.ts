import { describe, expect, it } from 'vitest';
import { groupedBy, inKeyOrder } from './loaders';

describe('inKeyOrder', () => {
  it('answers every key in the order asked, null for a key no row has', () => {
    const rows = [{ id: 'b' }, { id: 'a' }];
    expect(inKeyOrder(['a', 'x', 'b', 'a'], rows, (row) => row.id)).toEqual([{ id: 'a' }, null, { id: 'b' }, { id: 'a' }]);
  });
});

describe('groupedBy', () => {
  it('hands the batch to one load and answers each key with its rows, in the order loaded', async () => {
    const batches: string[][] = [];
    const loader = groupedBy(
      async (keys) => {
        batches.push(keys);
        return [
          { memberId: 'm2', n: 1 },
          { memberId: 'm1', n: 2 },
          { memberId: 'm2', n: 3 },
        ];
      },
      (row) => row.memberId,
    );
    const [m1, m2, nobody] = await Promise.all([loader.load('m1'), loader.load('m2'), loader.load('m3')]);
    expect(batches).toEqual([['m1', 'm2', 'm3']]);
    expect(m1.map((row) => row.n)).toEqual([2]);
    expect(m2.map((row) => row.n)).toEqual([1, 3]);
    expect(nobody).toEqual([]);
  });
});
