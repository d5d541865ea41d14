import { useMemo, useSyncExternalStore } from 'react';

// `@vibe/shared` in an exported app (`/vibe export`): the data the app had when it was exported,
// read from `data.json` beside the page, read-only. Writes change nothing and say so once on
// the console; the status stays `offline`. Same API as the live module the bot serves.

export type SharedStatus = 'connecting' | 'live' | 'offline';
type Item = { id: string; value: unknown; by: string; at: number };
interface Data {
  state: Record<string, unknown>;
  lists: Record<string, Item[]>;
}

let data: Data = { state: {}, lists: {} };
let status: SharedStatus = 'connecting';
const listeners = new Set<() => void>();
const NONE: Item[] = [];
let warned = false;

fetch(new URL('data.json', document.baseURI))
  .then((r) => (r.ok ? (r.json() as Promise<Data>) : undefined))
  .catch(() => undefined)
  .then((d) => {
    if (d && typeof d === 'object') data = { state: d.state ?? {}, lists: d.lists ?? {} };
    status = 'offline';
    for (const l of listeners) l();
  });

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => void listeners.delete(l);
}

function readOnly(): void {
  if (warned) return;
  warned = true;
  console.warn('[@vibe/shared] this is an exported copy: its data (data.json) is read-only, so changes are not saved');
}

export function useSharedState<T>(key: string, initial: T): [T, (next: T | ((prev: T) => T)) => void, SharedStatus] {
  const s = useSyncExternalStore(subscribe, () => status);
  const v = useSyncExternalStore(subscribe, () => (key in data.state ? data.state[key] : undefined));
  return [key in data.state ? (v as T) : initial, readOnly, s];
}

export function useSharedList<T>(name: string): {
  items: Array<{ id: string; value: T; by: string; at: number }>;
  put(id: string, value: T): void;
  add(value: T): string;
  remove(id: string): void;
  status: SharedStatus;
} {
  const s = useSyncExternalStore(subscribe, () => status);
  const items = useSyncExternalStore(subscribe, () => data.lists[name] ?? NONE) as Array<{
    id: string;
    value: T;
    by: string;
    at: number;
  }>;
  return useMemo(
    () => ({ items, status: s, put: readOnly, add: () => (readOnly(), ''), remove: readOnly }),
    [items, s],
  );
}

export function useViewer(): { id: string; name: string | null; setName(name: string): void } {
  return useMemo(() => ({ id: 'exported', name: null, setName: readOnly }), []);
}
