import { useCallback, useMemo, useSyncExternalStore } from 'react';
import { MISSING, SharedClient, type SharedItem, type SharedStatus } from './client.ts';
import { randomId } from './random-id.ts';

// `@vibe/shared`: state every open page of this app shares, live. Kept by the bot, in the app's
// own space; each page connects to it over one WebSocket (see client.ts). A template file: the
// app's code imports it and cannot change it.

export type { SharedStatus };

/** Where the server is: this app's `/__vibe/shared`, set by the template's Vite config. */
declare const __VIBE_SHARED_URL__: string;

let client: SharedClient | undefined;

function shared(): SharedClient {
  if (!client) {
    const url = new URL(__VIBE_SHARED_URL__, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    // Never stopped: the browser closes the socket when the page goes, and a page restored from
    // the back/forward cache reconnects by itself.
    client = new SharedClient({ url: url.href, viewerId: viewer().id }).start();
  }
  return client;
}

function useClientValue<T>(read: (c: SharedClient) => T): T {
  const c = shared();
  return useSyncExternalStore(
    (l) => c.subscribe(l),
    () => read(c),
  );
}

/** One value per key for the whole app; last writer wins; every open page sees a change. */
export function useSharedState<T>(key: string, initial: T): [T, (next: T | ((prev: T) => T)) => void, SharedStatus] {
  const stored = useClientValue((c) => c.getState(key));
  const status = useClientValue((c) => c.status);
  const value = stored === MISSING ? initial : (stored as T);
  const set = useCallback(
    (next: T | ((prev: T) => T)) => {
      const c = shared();
      const prev = c.getState(key);
      const current = prev === MISSING ? initial : (prev as T);
      c.setState(key, typeof next === 'function' ? (next as (prev: T) => T)(current) : next);
    },
    // `initial` is only the fallback for a key never set: a new literal each render changes nothing.
    [key],
  );
  return [value, set, status];
}

/** Items that never conflict with each other (a poll: one item per voter; a board: one per note). Oldest first. */
export function useSharedList<T>(name: string): {
  items: Array<{ id: string; value: T; by: string; at: number }>;
  put(id: string, value: T): void;
  add(value: T): string;
  remove(id: string): void;
  status: SharedStatus;
} {
  const items = useClientValue((c) => c.items(name)) as SharedItem<T>[];
  const status = useClientValue((c) => c.status);
  return useMemo(
    () => ({
      items,
      status,
      put: (id: string, value: T) => shared().put(name, id, value),
      add: (value: T) => shared().add(name, value),
      remove: (id: string) => shared().remove(name, id),
    }),
    [items, status, name],
  );
}

// ---------------------------------------------------------------- the viewer

const ID_KEY = 'vibe:viewer';
const NAME_KEY = 'vibe:viewer-name';
const viewerListeners = new Set<() => void>();
let me: { id: string; name: string | null } | undefined;

function storage(): Storage | undefined {
  try {
    return localStorage;
  } catch {
    return undefined; // storage blocked: the id lasts as long as the page
  }
}

function viewer(): { id: string; name: string | null } {
  if (!me) {
    const s = storage();
    let id = s?.getItem(ID_KEY) ?? null;
    if (!id || !/^[a-z0-9]{8,64}$/.test(id)) {
      id = randomId();
      s?.setItem(ID_KEY, id);
    }
    me = { id, name: s?.getItem(NAME_KEY) ?? null };
    addEventListener('storage', (e) => {
      if (e.key !== NAME_KEY || !me) return;
      me = { ...me, name: e.newValue };
      for (const l of viewerListeners) l();
    });
  }
  return me;
}

function setViewerName(name: string): void {
  const clean = name.trim().slice(0, 60) || null;
  const s = storage();
  if (clean) s?.setItem(NAME_KEY, clean);
  else s?.removeItem(NAME_KEY);
  me = { ...viewer(), name: clean };
  for (const l of viewerListeners) l();
}

/** This browser's viewer: a stable random id, and a display name the viewer may set. */
export function useViewer(): { id: string; name: string | null; setName(name: string): void } {
  const v = useSyncExternalStore((l) => {
    viewerListeners.add(l);
    return () => void viewerListeners.delete(l);
  }, viewer);
  return useMemo(() => ({ id: v.id, name: v.name, setName: setViewerName }), [v]);
}
