import * as Y from 'yjs';
import type { SharedDataExport, SharedDataStats } from '../core/ports/shared.ts';
import { rootOf } from './layout.ts';

type Item = { v: unknown; by: string; at: number; c: number };

/** The live entries of root map `name`, without creating it. */
function entries(doc: Y.Doc, name: string): [string, unknown][] {
  const type = doc.share.get(name);
  if (!type) return [];
  const out: [string, unknown][] = [];
  for (const [key, item] of type._map) {
    if (item.deleted) continue;
    const content = item.content.getContent();
    out.push([key, content[content.length - 1]]);
  }
  return out;
}

/** A list's items as the client module shows them: oldest first (by creation, then id). */
function listItems(doc: Y.Doc, name: string): { id: string; value: unknown; by: string; at: number }[] {
  return entries(doc, name)
    .filter((e): e is [string, Item] => typeof e[1] === 'object' && e[1] !== null)
    .sort(([a, x], [b, y]) => x.c - y.c || (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, it]) => ({ id, value: it.v, by: it.by, at: it.at }));
}

export function exportOf(doc: Y.Doc): SharedDataExport {
  const data: SharedDataExport = { state: {}, lists: {} };
  for (const name of [...doc.share.keys()].sort()) {
    const root = rootOf(name);
    if (root?.kind === 'state') for (const [k, v] of entries(doc, name)) data.state[k] = v;
    if (root?.kind === 'list') {
      const items = listItems(doc, name);
      if (items.length > 0) data.lists[root.name] = items;
    }
  }
  return data;
}

export function statsOf(doc: Y.Doc, connections: number, limits: SharedDataStats['limits']): SharedDataStats {
  const lists: SharedDataStats['lists'] = [];
  let keys = 0;
  for (const name of doc.share.keys()) {
    const root = rootOf(name);
    if (root?.kind === 'state') keys = entries(doc, name).length;
    if (root?.kind === 'list') {
      const items = entries(doc, name).length;
      if (items > 0) lists.push({ name: root.name, items });
    }
  }
  lists.sort((a, b) => b.items - a.items || a.name.localeCompare(b.name));
  return { bytes: Y.encodeStateAsUpdate(doc).length, keys, lists, connections, limits };
}
