// The create's and refine's tails run their store writes and the publish side by side: a failure
// of one is reported only once the others have finished, so a rollback never races them.
import { describe, expect, it } from 'vitest';
import { settledAll } from '../../src/core/build/settled-all.ts';

describe('settledAll', () => {
  it('gives every value in order', async () => {
    expect(await settledAll([Promise.resolve(1), Promise.resolve('two')] as const)).toEqual([1, 'two']);
  });

  it('throws the first failure only after the slower work has finished', async () => {
    let finished = false;
    const slow = new Promise<void>((r) => setTimeout(() => ((finished = true), r()), 50));
    const failing = Promise.reject(new Error('store down'));
    await expect(settledAll([failing, slow] as const)).rejects.toThrow('store down');
    expect(finished).toBe(true);
  });
});
