import * as Y from 'yjs';
import { entryProblem, rootOf, type Root } from './layout.ts';
import { CLOSE } from './limits.ts';

/** An update that may be applied: how many writes it makes, and the list items it may add. */
export interface Accepted {
  ok: true;
  /** Entries it sets (a removal alone counts 1; nothing new, 0): what the write rate counts. */
  writes: number;
  /** Items it may add to lists (keys not there yet): what the item limit counts. */
  newItems: number;
}
export interface Refused {
  ok: false;
  code: number;
  reason: string;
}

/** Clocks beyond this are no client's (a real one would take years of writes to get there). */
const MAX_CLOCK = 2 ** 32;
/** Deepest chain of items resolved to find one's map (each step: an item whose origin is in the same update). */
const MAX_CHAIN = 20_000;

type Struct = Y.Item | Y.GC | Y.Skip;
type Place = { root: Root; rootName: string; key: string } | typeof DROPPED;
/** An item next to garbage-collected content: Yjs drops what it holds. */
const DROPPED = { dropped: true } as const;

const refuse = (reason: string, code: number = CLOSE.refused): Refused => ({ ok: false, code, reason });

/**
 * Checks a viewer's update against the app's document before anything of it is applied: it
 * must decode; every item must be a JSON value set on a key of a map the layout allows (see
 * layout.ts), within the value size; every item and deletion must build on what the document
 * (or the update itself) already holds, so nothing is left pending unchecked. Yjs cannot take
 * an update back once applied, hence before.
 */
export function vetUpdate(
  doc: Y.Doc,
  update: Uint8Array,
  opts: { valueBytes: number; now: number },
): Accepted | Refused {
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch {
    return refuse('the update could not be decoded');
  }
  const byClient = new Map<number, Struct[]>();
  for (const s of decoded.structs) {
    if (s.id.clock + s.length > MAX_CLOCK) return refuse('the update is malformed');
    const list = byClient.get(s.id.client);
    if (list) list.push(s);
    else byClient.set(s.id.client, [s]);
  }
  // What is known of each client once this update is in: nothing may start beyond it.
  const known = new Map<number, number>();
  for (const [client, structs] of byClient) {
    let end = Y.getState(doc.store, client);
    for (const s of structs) {
      if (s.id.clock > end) return refuse('the update depends on changes the server does not have');
      if (!(s instanceof Y.Skip)) end = Math.max(end, s.id.clock + s.length);
    }
    known.set(client, end);
  }
  const knownOf = (client: number) => known.get(client) ?? Y.getState(doc.store, client);

  const places = new Map<Struct, Place | string>();
  const find = (id: Y.ID): Struct | undefined => {
    if (id.clock >= knownOf(id.client)) return undefined;
    const own = byClient.get(id.client);
    const hit = own && containing(own, id.clock);
    if (hit && !(hit instanceof Y.Skip)) return hit;
    return id.clock < Y.getState(doc.store, id.client) ? (Y.getItem(doc.store, id) as Struct) : undefined;
  };
  // The map and key an item lands in, as Yjs will decide it (from its parent, or its neighbours).
  const placeOf = (item: Y.Item, depth: number): Place | string => {
    const memo = places.get(item);
    if (memo) return memo;
    if (depth > MAX_CHAIN) return 'the update is too deeply chained';
    let place: Place | string;
    const parent = item.parent as unknown;
    if (typeof parent === 'string') {
      const root = rootOf(parent);
      place =
        root && typeof item.parentSub === 'string'
          ? { root, rootName: parent, key: item.parentSub }
          : 'the update writes outside the shared state layout';
    } else if (parent instanceof Y.ID) {
      place = 'the update nests types, which shared state does not use';
    } else if (parent instanceof Y.AbstractType) {
      place = docPlace(item, parent);
    } else {
      const left = item.origin ? find(item.origin) : undefined;
      const right = item.rightOrigin ? find(item.rightOrigin) : undefined;
      if ((item.origin && !left) || (item.rightOrigin && !right))
        place = 'the update depends on changes the server does not have';
      else if (left instanceof Y.GC || right instanceof Y.GC) place = DROPPED;
      else {
        const near = (left ?? right) as Y.Item | undefined;
        place = near ? placeOf(near, depth + 1) : 'the update is malformed';
      }
    }
    places.set(item, place);
    return place;
  };

  let writes = 0;
  const adds = new Set<string>();
  for (const s of decoded.structs) {
    if (!(s instanceof Y.Item)) continue;
    const content = s.content;
    if (content instanceof Y.ContentDeleted) continue;
    if (!(content instanceof Y.ContentAny)) return refuse('the update holds content shared state does not use');
    const place = placeOf(s, 0);
    if (typeof place === 'string') return refuse(place);
    if ('dropped' in place) continue;
    if (content.arr.length !== 1) return refuse('the update sets a map entry to several values');
    const problem = entryProblem(place.root, content.arr[0], opts.valueBytes, opts.now);
    if (problem) return refuse(`refused: ${problem}`, problem.includes('larger') ? CLOSE.tooLarge : CLOSE.refused);
    if (s.id.clock + s.length <= Y.getState(doc.store, s.id.client)) continue; // already here
    writes++;
    if (place.root.kind === 'list' && !hasKey(doc, place.rootName, place.key))
      adds.add(`${place.rootName}\u0000${place.key}`);
  }
  // Anything new at all: a struct past what the server has, or a deletion of something live.
  let fresh = decoded.structs.some(
    (st) => !(st instanceof Y.Skip) && st.id.clock + st.length > Y.getState(doc.store, st.id.client),
  );
  for (const [client, ranges] of decoded.ds.clients)
    for (const d of ranges) {
      if (d.len < 0 || d.clock + d.len > knownOf(client))
        return refuse('the update deletes changes the server does not have');
      fresh ||= deletesLive(doc, client, d.clock, d.len);
    }
  // A page's sync resends its whole delete set: with nothing new it is no write (and not stored).
  return { ok: true, writes: fresh ? Math.max(1, writes) : 0, newItems: adds.size };
}

/** True when the range deletes something the document holds undeleted (or does not hold yet). */
function deletesLive(doc: Y.Doc, client: number, clock: number, len: number): boolean {
  const state = Y.getState(doc.store, client);
  for (let c = clock; c < clock + len;) {
    if (c >= state) return true; // the update's own structs
    const st = Y.getItem(doc.store, Y.createID(client, c)) as Struct;
    if (!st.deleted) return true;
    c = st.id.clock + st.length;
  }
  return false;
}

/** True when the root map `name` has a live entry under `key` (without creating the map). */
function hasKey(doc: Y.Doc, name: string, key: string): boolean {
  const type = doc.share.get(name);
  const item = type?._map.get(key);
  return item !== undefined && !item.deleted;
}

/** The root map and key of an item already in the document. */
function docPlace(item: Y.Item, parent: Y.AbstractType<unknown>): Place | string {
  if (parent._item !== null) return 'the update nests types, which shared state does not use';
  const name = Y.findRootTypeKey(parent);
  const root = rootOf(name);
  return root && typeof item.parentSub === 'string'
    ? { root, rootName: name, key: item.parentSub }
    : 'the update writes outside the shared state layout';
}

/** The struct of one client's run (in clock order) that holds `clock`. */
function containing(structs: Struct[], clock: number): Struct | undefined {
  let lo = 0;
  let hi = structs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = structs[mid]!;
    if (clock < s.id.clock) hi = mid - 1;
    else if (clock >= s.id.clock + s.length) lo = mid + 1;
    else return s;
  }
  return undefined;
}
