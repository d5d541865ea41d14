import * as encoding from 'lib0/encoding';
import * as sync from 'y-protocols/sync';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { openAppStore } from '../../src/store/open.ts';
import type { KeyvAppStore } from '../../src/store/keyv-app-store.ts';
import { eventually } from '../support/eventually.ts';
import { live, pageClient, rawSocket, scratchSockets, sharedStack, storeApp } from '../support/shared-kit.ts';
import { SharedClient } from '../../sandbox-template/vibe-shared/client.ts';
import type { ScratchState } from '../../src/core/ports/shared.ts';

// The server end of `@vibe/shared` behind the real gateway, driven by the real client module
// (its engine, in Node) and, for what no honest page sends, by hand over the wire.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function memoryStack(opts: Parameters<typeof sharedStack>[1] = {}) {
  const store = await openAppStore('memory://');
  cleanups.push(() => store.close());
  const stack = await sharedStack(store, opts);
  cleanups.push(() => stack.close());
  for (const id of ['poll1', 'poll2']) await storeApp(store, id);
  return { store, ...stack };
}

function page(url: string, viewer: string, origin?: string) {
  const p = pageClient(url, viewer, origin);
  cleanups.push(() => p.client.stop());
  return p;
}

const choices = (c: SharedClient, list = 'votes') => c.items(list).map((i) => (i.value as { choice: string }).choice);

/** A sync-update message carrying `update`, as y-protocols frames it. */
function updateMessage(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0);
  sync.writeUpdate(e, update);
  return encoding.toUint8Array(e);
}

/** An update a hostile page could make: whatever `write` does to a fresh document. */
function craft(write: (doc: Y.Doc) => void): Uint8Array {
  const doc = new Y.Doc();
  write(doc);
  return Y.encodeStateAsUpdate(doc);
}

describe('shared state between pages of one app', () => {
  it("each page's write shows on the other, live; another app's list of the same name is another list", async () => {
    const s = await memoryStack();
    const a = page(s.url('poll1'), 'viewera1');
    const b = page(s.url('poll1'), 'viewerb1');
    const other = page(s.url('poll2'), 'viewerc1');
    await live(a.client, b.client, other.client);

    const t0 = performance.now();
    a.client.put('votes', 'viewera1', { choice: 'pizza' });
    await eventually(() => choices(b.client).includes('pizza'), 5000, 1);
    const aToB = performance.now() - t0;
    const t1 = performance.now();
    b.client.setState('title', 'Friday lunch');
    await eventually(() => a.client.getState('title') === 'Friday lunch', 5000, 1);
    console.log(
      `shared state, Node pages on loopback: a -> b ${aToB.toFixed(1)} ms, b -> a ${(performance.now() - t1).toFixed(1)} ms`,
    );

    const [item] = b.client.items('votes');
    expect(item).toMatchObject({ id: 'viewera1', by: 'viewera1', value: { choice: 'pizza' } });
    expect(Math.abs(item!.at - Date.now())).toBeLessThan(5000);
    // The same list name in another app: nothing of poll1's.
    other.client.put('votes', 'viewerc1', { choice: 'sushi' });
    await eventually(async () => (await s.server.exportData('poll2'))?.lists.votes?.length === 1);
    expect(choices(other.client)).toEqual(['sushi']);
    expect(choices(a.client)).toEqual(['pizza']);
    expect((await s.server.exportData('poll1'))?.lists.votes?.map((v) => v.value)).toEqual([{ choice: 'pizza' }]);
  });

  it('keeps writes made offline and sends them when the page reconnects', async () => {
    const store = await openAppStore('memory://');
    cleanups.push(() => store.close());
    await storeApp(store, 'poll1');
    let stack = await sharedStack(store);
    const port = stack.port;
    const a = page(stack.url('poll1'), 'viewera1');
    await live(a.client);
    a.client.put('votes', 'viewera1', { choice: 'tacos' });
    await eventually(async () => (await stack.server.exportData('poll1'))?.lists.votes?.length === 1);
    await stack.close(); // the bot restarts: the page is offline meanwhile
    await eventually(() => a.client.status === 'offline');
    a.client.put('notes', 'n1', { text: 'written offline' });
    expect(a.client.items('notes')).toHaveLength(1);
    // Back on the same port (the page retries there).
    stack = await sharedStack(store, { port });
    cleanups.push(() => stack.close());
    await live(a.client);
    await eventually(async () => (await stack.server.exportData('poll1'))?.lists.notes?.length === 1);
    expect((await stack.server.exportData('poll1'))?.lists.votes?.[0]?.value).toEqual({ choice: 'tacos' });
  });

  it('refuses pages of another origin; its own origin and non-browsers get in', async () => {
    const s = await memoryStack();
    const foreign = await rawHandshake(s.url('poll1'), s.origin('poll2'));
    expect(foreign).toBe(403);
    expect(await rawHandshake(s.url('poll1'), s.origin('poll1'))).toBe(101);
    expect(await rawHandshake(s.url('poll1'), undefined)).toBe(101);
    expect(await rawHandshake(s.url('nosuchapp'), undefined)).toBe(404);
    // On one app's origin, another app's path is nothing; and the path takes WebSockets only.
    expect(await rawHandshake(`ws://poll1.localhost:${s.port}/apps/poll2/__vibe/shared`, undefined)).toBe(404);
    expect((await fetch(s.origin('poll1') + '/__vibe/shared')).status).toBe(426);
    const own = page(s.url('poll1'), 'viewera1', s.origin('poll1'));
    await live(own.client);
  });
});

describe('limits and bad input', () => {
  it('refuses the 61st quick write with status offline and the reason, keeping the 60 stored', async () => {
    const s = await memoryStack();
    const a = page(s.url('poll1'), 'viewera1');
    const b = page(s.url('poll1'), 'viewerb1');
    await live(a.client, b.client);
    for (let i = 0; i < 61; i++) a.client.put('votes', `v${i}`, { choice: `c${i}` });
    await eventually(() => a.warnings.some((w) => /too many writes/.test(w)));
    expect(a.client.refused).toMatch(/too many writes/);
    // The refused write is dropped: the page resyncs to what the server kept.
    await live(a.client);
    await eventually(() => a.client.items('votes').length === 60);
    expect(b.client.items('votes')).toHaveLength(60);
    expect((await s.server.stats('poll1')).lists).toEqual([{ name: 'votes', items: 60 }]);
  });

  it('refuses items past the list limit and state past the size limit; what was stored stays', async () => {
    const s = await memoryStack({ limits: { listItems: 5, stateBytes: 3000 } });
    const a = page(s.url('poll1'), 'viewera1');
    await live(a.client);
    for (let i = 0; i < 6; i++) a.client.add('notes', { i });
    await eventually(() => a.warnings.some((w) => /lists are full \(5 items\)/.test(w)));
    await live(a.client);
    expect((await s.server.stats('poll1')).lists).toEqual([{ name: 'notes', items: 5 }]);
    a.client.setState('big', 'x'.repeat(2900));
    await eventually(() => a.warnings.some((w) => /shared data is full/.test(w)));
    expect((await s.server.exportData('poll1'))?.state).toEqual({});
    expect((await s.server.stats('poll1')).lists).toEqual([{ name: 'notes', items: 5 }]);
  });

  it('refuses malformed and out-of-layout updates, closing with a reason, and loses nothing stored', async () => {
    const s = await memoryStack();
    const a = page(s.url('poll1'), 'viewera1');
    await live(a.client);
    a.client.put('votes', 'viewera1', { choice: 'pizza' });
    await eventually(async () => (await s.server.exportData('poll1'))?.lists.votes?.length === 1);
    const before = await s.server.exportData('poll1');
    const url = s.url('poll1');
    const now = Date.now();

    const cases: [string, Uint8Array | string, number, RegExp][] = [
      ['garbage', new Uint8Array([0, 2, 200, 1, 2, 3]), 4400, /malformed|decoded/],
      ['a text message', 'hello', 4400, /text messages/],
      ['an unknown message kind', new Uint8Array([7, 0]), 4400, /malformed/],
      ['a root the layout has no place for', updateMessage(craft((d) => d.getMap('x').set('k', 1))), 4400, /layout/],
      ['text content', updateMessage(craft((d) => d.getText('s').insert(0, 'hi'))), 4400, /content/],
      ['a nested type', updateMessage(craft((d) => d.getMap('s').set('k', new Y.Map()))), 4400, /content|nests/],
      ['bytes', updateMessage(craft((d) => d.getMap('s').set('k', new Uint8Array(3)))), 4400, /content/],
      [
        'a list item without its fields',
        updateMessage(craft((d) => d.getMap('l:votes').set('x', { choice: 'evil' }))),
        4400,
        /wrong fields/,
      ],
      [
        'an item from the future',
        updateMessage(craft((d) => d.getMap('l:votes').set('x', { v: 1, by: 'me', at: now + 3_600_000, c: now }))),
        4400,
        /time/,
      ],
      [
        'a value over 16 KB',
        updateMessage(craft((d) => d.getMap('s').set('k', 'x'.repeat(17 << 10)))),
        4413,
        /larger than 16 KB/,
      ],
      [
        'an update that depends on changes the server lacks',
        updateMessage(
          (() => {
            const d = new Y.Doc();
            d.getMap('s').set('k', 1);
            const sv = Y.encodeStateVector(d);
            d.getMap('s').set('k', 2);
            return Y.encodeStateAsUpdate(d, sv); // its origin (the first write) never sent
          })(),
        ),
        4400,
        /does not have/,
      ],
    ];
    for (const [what, message, code, reason] of cases) {
      const closed = await rawSocket(url, [message]);
      expect(closed.code, what).toBe(code);
      expect(closed.reason, what).toMatch(reason);
    }
    expect(await s.server.exportData('poll1')).toEqual(before);
    expect(choices(a.client)).toEqual(['pizza']);
  });

  it('stores nothing for a page that reconnects with nothing new, and cuts off a page that keeps asking to sync', async () => {
    const s = await memoryStack();
    const a = page(s.url('poll1'), 'viewera1');
    await live(a.client);
    a.client.put('votes', 'viewera1', { choice: 'pizza' });
    a.client.remove('votes', 'viewera1'); // the page's delete set is not empty from now on
    a.client.put('votes', 'viewera1', { choice: 'sushi' });
    await eventually(async () => (await s.store.shared.read('poll1')).updates.length === 3);
    // The connection drops; the page comes back and syncs (its step 2 carries its delete set).
    (a.client as unknown as { socket: { close(): void } }).socket.close();
    await eventually(() => a.client.status === 'offline');
    await live(a.client);
    const b = page(s.url('poll1'), 'viewerb1');
    await live(b.client);
    expect(choices(b.client)).toEqual(['sushi']);
    expect((await s.store.shared.read('poll1')).updates).toHaveLength(3);

    const step1 = new Uint8Array([0, 0, 1, 0]); // sync step 1 with an empty state vector
    const closed = await rawSocket(
      s.url('poll1'),
      Array.from({ length: 8 }, () => step1),
    );
    expect(closed).toEqual({ code: 4429, reason: expect.stringMatching(/too many sync requests/) });
  });

  it('refuses connections past the per-app cap, with the reason', async () => {
    const s = await memoryStack({ limits: { connectionsPerApp: 2 } });
    const a = page(s.url('poll1'), 'viewera1');
    const b = page(s.url('poll1'), 'viewerb1');
    await live(a.client, b.client);
    const c = page(s.url('poll1'), 'viewerc1');
    await eventually(() => c.warnings.some((w) => /too many pages/.test(w)));
    expect(c.client.status).toBe('offline');
  });
});

describe('the data belongs to the app', () => {
  it('reset empties it for every open page; remove deletes every key it had', async () => {
    const s = await memoryStack();
    const a = page(s.url('poll1'), 'viewera1');
    await live(a.client);
    a.client.put('votes', 'viewera1', { choice: 'pizza' });
    a.client.setState('round', 2);
    await eventually(async () => (await s.server.stats('poll1')).keys === 1);

    await s.server.reset('poll1');
    await eventually(() => a.warnings.some((w) => /reset/.test(w)));
    await eventually(() => a.client.status === 'live' && a.client.items('votes').length === 0);
    expect(a.client.getState('round')).not.toBe(2);
    expect(await s.server.exportData('poll1')).toBeUndefined();
    a.client.put('votes', 'viewera1', { choice: 'sushi' });
    await eventually(async () => (await s.server.exportData('poll1'))?.lists.votes?.[0]?.value !== undefined);
    expect((await s.server.exportData('poll1'))?.lists.votes?.map((v) => v.value)).toEqual([{ choice: 'sushi' }]);

    await s.server.remove('poll1');
    await eventually(() => a.warnings.some((w) => /deleted/.test(w)));
    expect(await s.server.exportData('poll1')).toBeUndefined();
    expect(await sharedKeys(s.store, 'poll1')).toEqual([]);
  });

  it('gives the browser check a scratch copy: it reads the real data, its writes go nowhere', async () => {
    const s = await memoryStack();
    const a = page(s.url('poll1'), 'viewera1');
    await live(a.client);
    a.client.put('votes', 'viewera1', { choice: 'pizza' });
    await eventually(async () => (await s.server.exportData('poll1'))?.lists.votes?.length === 1);

    const scratch = await s.server.scratch('poll1');
    const check = scratchPage(scratch);
    await live(check);
    expect(choices(check)).toEqual(['pizza']);
    check.put('votes', 'checker', { choice: 'written by the check' });
    check.setState('opened', true);
    await eventually(() => check.items('votes').length === 2);
    scratch.close();
    check.stop();
    expect((await s.server.exportData('poll1'))?.lists.votes?.map((v) => v.value)).toEqual([{ choice: 'pizza' }]);
    expect((await s.server.exportData('poll1'))?.state).toEqual({});
    expect(choices(a.client)).toEqual(['pizza']);
  });

  it('compacts the log: many writes leave one snapshot and a short tail, and load back the same', async () => {
    const s = await memoryStack({ limits: { writesPerMinute: 10_000, writeBurst: 10_000 } });
    const a = page(s.url('poll1'), 'viewera1');
    await live(a.client);
    for (let i = 0; i < 250; i++) a.client.setState('counter', i);
    await eventually(async () => (await s.server.exportData('poll1'))?.state.counter === 249);
    await eventually(async () => (await sharedKeys(s.store, 'poll1')).filter((k) => /:u:/.test(k)).length < 100);
    const keys = await sharedKeys(s.store, 'poll1');
    expect(keys.filter((k) => /:s:/.test(k))).toHaveLength(1);
    const read = await s.store.shared.read('poll1');
    const d = new Y.Doc();
    for (const u of read.updates) Y.applyUpdate(d, u);
    expect(d.getMap('s').get('counter')).toBe(249);
  });
});

/** The shared-state keys of an app in a memory store (its Keyv map). */
async function sharedKeys(store: KeyvAppStore, appId: string): Promise<string[]> {
  const map = (store as unknown as { keyv: { store: Map<string, unknown> } }).keyv.store;
  return [...map.keys()].filter((k) => k.includes(`:app:${appId}:sh:`) && !k.endsWith(':sh:seq'));
}

/** The status code of a WebSocket handshake with `origin`. */
async function rawHandshake(url: string, origin: string | undefined): Promise<number> {
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(url, origin ? { origin } : {});
  return new Promise((resolve) => {
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => resolve(-1));
  });
}

/** A client on a scratch copy, through in-memory sockets (as the check browser's route is). */
function scratchPage(scratch: ScratchState): SharedClient {
  const client = new SharedClient({
    url: 'ws://scratch/__vibe/shared',
    viewerId: 'checker',
    WebSocket: scratchSockets(scratch),
  });
  cleanups.push(() => client.stop());
  return client.start();
}
