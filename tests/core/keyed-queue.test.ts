import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../src/core/apps/keyed-queue.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KeyedQueue', () => {
  it('runs tasks of one key one at a time, in order, even when one fails', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const task =
      (name: string, ms: number, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await tick(ms);
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const a = q.run('app', task('a', 30, true));
    const b = q.run('app', task('b', 5));
    expect(q.depth('app')).toBe(2);
    await expect(a).rejects.toThrow('a');
    await expect(b).resolves.toBe('b');
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
    expect(q.depth('app')).toBe(0);
  });

  it('runs different keys in parallel', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    await Promise.all([
      q.run('x', async () => (log.push('x1'), await tick(20), log.push('x2'))),
      q.run('y', async () => (log.push('y1'), await tick(1), log.push('y2'))),
    ]);
    expect(log.indexOf('y2')).toBeLessThan(log.indexOf('x2'));
  });

  it('runs an uncounted task in line without counting it in the depth', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const publish = q.run('app', async () => (log.push('publish'), await held), { counted: false });
    expect(q.depth('app')).toBe(0);
    const change = q.run('app', async () => void log.push('change'));
    expect(q.depth('app')).toBe(1);
    await tick(5);
    expect(log).toEqual(['publish']); // the change still waits its turn
    release();
    await Promise.all([publish, change]);
    expect(log).toEqual(['publish', 'change']);
    expect(q.depth('app')).toBe(0);
  });
});
