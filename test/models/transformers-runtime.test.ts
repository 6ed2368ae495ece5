import { describe, expect, it } from 'vitest';
import { SharedModelCache } from '../../src/models/transformers-runtime.js';

describe('SharedModelCache', () => {
  it('loads once for many users and disposes when the last one releases', async () => {
    const disposed: number[] = [];
    let loads = 0;
    const cache = new SharedModelCache<number>(async (m) => disposed.push(m));
    const load = async () => ++loads;
    const a = await cache.acquire('k', load);
    const b = await cache.acquire('k', load);
    expect(loads).toBe(1);
    await a.release();
    expect(disposed).toEqual([]);
    await b.release();
    expect(disposed).toEqual([1]);
    expect(cache.size).toBe(0);
  });

  it('never hands out a model that the last other user released while it waited', async () => {
    const disposed: number[] = [];
    let loads = 0;
    const cache = new SharedModelCache<number>(async (m) => disposed.push(m));
    const load = async () => ++loads;
    const first = await cache.acquire('k', load);
    const second = cache.acquire('k', load); // suspended on the already-loaded entry
    await first.release(); // the last user goes: model 1 is disposed
    const lease = await second;
    expect(disposed).toEqual([1]);
    expect(lease.model).toBe(2);
    expect(loads).toBe(2);
  });
});
