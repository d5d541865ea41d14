import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { openAppStore } from '../../src/store/open.ts';
import { eventually } from '../support/eventually.ts';
import { ci, reachable } from '../support/needs.ts';
import { live, pageClient, sharedStack, storeApp } from '../support/shared-kit.ts';
import { uniqueNamespace } from '../store/app-store-contract.ts';

// Shared state on every backend: kept across a bot restart (SQLite file), and across bot
// processes on one Redis or PostgreSQL (each with its own store connection, gateway and
// server, as two `npm start`s are), a page on each sees the other's writes.

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PG_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUp = ci || (await reachable(new URL(REDIS_URL).hostname, Number(new URL(REDIS_URL).port || 6379)));
const pgUp = ci || (await reachable(new URL(PG_URL).hostname, Number(new URL(PG_URL).port || 5432)));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const values = (items: { value: unknown }[]) => items.map((i) => (i.value as { choice: string }).choice).sort();

describe('shared state survives a bot restart (SQLite file store)', () => {
  it('is there after the store and server are closed and opened again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vibe-shared-sqlite-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const url = `sqlite://${join(dir, 'vibe.sqlite')}`;

    const first = await openAppStore(url);
    await storeApp(first, 'poll1');
    const stack = await sharedStack(first);
    const a = pageClient(stack.url('poll1'), 'viewera1');
    await live(a.client);
    a.client.put('votes', 'viewera1', { choice: 'pizza' });
    a.client.setState('closesAt', '12:30');
    await eventually(async () => (await stack.server.exportData('poll1'))?.lists.votes?.length === 1);
    a.client.stop();
    await stack.close(); // the last page gone: the log is folded into one snapshot
    expect((await first.shared.read('poll1')).updates).toHaveLength(1);
    await first.close();

    const second = await openAppStore(url);
    cleanups.push(() => second.close());
    const again = await sharedStack(second);
    cleanups.push(() => again.close());
    const b = pageClient(again.url('poll1'), 'viewerb1');
    cleanups.push(() => b.client.stop());
    await live(b.client);
    expect(values(b.client.items('votes'))).toEqual(['pizza']);
    expect(b.client.getState('closesAt')).toBe('12:30');
  });
});

for (const [name, url, up] of [
  ['Redis', REDIS_URL, redisUp],
  ['PostgreSQL', PG_URL, pgUp],
] as const) {
  describe.runIf(up)(`two bot processes on one ${name}`, () => {
    it("a page on each sees the other's writes, and a reset through one empties both", async () => {
      const namespace = uniqueNamespace('shared');
      const stores = [await openAppStore(url, { namespace }), await openAppStore(url, { namespace })];
      cleanups.push(async () => {
        await stores[0]!.destroyNamespace();
        for (const s of stores) await s.close();
      });
      await storeApp(stores[0]!, 'poll1');
      // Reads of the log are rare here (60 s): what crosses is the bus's doing.
      const stacks = [
        await sharedStack(stores[0]!, { catchUpMs: 60_000 }),
        await sharedStack(stores[1]!, { catchUpMs: 60_000 }),
      ];
      for (const s of stacks) cleanups.push(() => s.close());
      const a = pageClient(stacks[0]!.url('poll1'), 'viewera1');
      const b = pageClient(stacks[1]!.url('poll1'), 'viewerb1');
      cleanups.push(
        () => a.client.stop(),
        () => b.client.stop(),
      );
      await live(a.client, b.client);

      const t0 = performance.now();
      a.client.put('votes', 'viewera1', { choice: 'pizza' });
      await eventually(() => b.client.items('votes').length === 1, 5000, 1);
      const aToB = performance.now() - t0;
      const t1 = performance.now();
      b.client.put('votes', 'viewerb1', { choice: 'sushi' });
      await eventually(() => a.client.items('votes').length === 2, 5000, 1);
      console.log(
        `shared state across two processes on ${name}: ${aToB.toFixed(1)} ms and ${(performance.now() - t1).toFixed(1)} ms`,
      );
      expect(values(a.client.items('votes'))).toEqual(['pizza', 'sushi']);
      expect(values(b.client.items('votes'))).toEqual(['pizza', 'sushi']);
      // A long value does not fit a NOTIFY: it travels by the log instead.
      a.client.setState('notes', 'n'.repeat(9000));
      await eventually(() => b.client.getState('notes') === 'n'.repeat(9000));

      // The log folds into one snapshot on this backend too (the value stays).
      const merge = (read: { updates: Uint8Array[] }) => {
        const d = new Y.Doc();
        for (const u of read.updates) Y.applyUpdate(d, u);
        return Y.encodeStateAsUpdate(d);
      };
      expect(await stores[1]!.shared.compact('poll1', merge)).toBe(true);
      const folded = await stores[0]!.shared.read('poll1');
      expect(folded.updates).toHaveLength(1);
      const d = new Y.Doc();
      Y.applyUpdate(d, folded.updates[0]!);
      expect(d.getMap('l:votes').size).toBe(2);

      await stacks[1]!.server.reset('poll1');
      await eventually(() => a.client.status === 'live' && a.client.items('votes').length === 0);
      await eventually(() => b.client.status === 'live' && b.client.items('votes').length === 0);
      expect(await stacks[0]!.server.exportData('poll1')).toBeUndefined();
    });
  });
}
