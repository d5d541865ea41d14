import { describe, expect, it } from 'vitest';
import { MemoryPrimitives } from '../../src/store/memory-primitives.ts';

describe('MemoryPrimitives windowed counters (injected clock)', () => {
  function primitives() {
    const clock = { t: 1_000 };
    return { clock, p: new MemoryPrimitives(new Map(), () => clock.t) };
  }

  it('expires a window exactly ttlMs after its first add, whatever is added later', async () => {
    const { clock, p } = primitives();
    expect(await p.addWindowed('k', 2, 100)).toBe(2);
    clock.t += 99;
    expect(await p.addWindowed('k', -5, 100)).toBe(-3);
    expect(await p.readWindowed(['k', 'other'])).toEqual([-3, 0]);
    clock.t += 1; // 100 ms after the first add
    expect(await p.readWindowed(['k'])).toEqual([0]);
    expect(await p.addWindowed('k', 4, 100)).toBe(4);
    clock.t += 99;
    expect(await p.readWindowed(['k'])).toEqual([4]);
    clock.t += 1;
    expect(await p.readWindowed(['k'])).toEqual([0]);
  });

  it('keeps windows apart from plain counters and clears them by prefix', async () => {
    const { p } = primitives();
    await p.addWindowed('ns:a', 3, 1_000);
    await p.addWindowed('other:a', 1, 1_000);
    expect(await p.read(['ns:a'])).toEqual([0]);
    await p.deletePrefix('ns:');
    expect(await p.readWindowed(['ns:a', 'other:a'])).toEqual([0, 1]);
  });
});
