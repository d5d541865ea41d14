// How an app's shared state sits in its Yjs document; the client module
// (sandbox-template/vibe-shared/layout.ts) writes exactly this, and the server refuses anything else.
//
//   root map "s"         useSharedState: key -> the value (JSON)
//   root map "l:<name>"  useSharedList <name>: item id -> { v: value, by: viewer id, at: ms, c: created ms }

export const STATE_ROOT = 's';
export const LIST_PREFIX = 'l:';
/** Longest state key, list name or item id (UTF-16 units). */
export const MAX_NAME = 100;
/** Longest viewer id. */
export const MAX_VIEWER = 64;
/** How far ahead of the server's clock an item's time may be (clients estimate the server's time). */
const FUTURE_MS = 60_000;
const MAX_DEPTH = 64;

export type Root = { kind: 'state' } | { kind: 'list'; name: string };

/** What a root map's name is, or undefined for a name the layout has no place for. */
export function rootOf(name: string): Root | undefined {
  if (name === STATE_ROOT) return { kind: 'state' };
  if (name.startsWith(LIST_PREFIX) && goodName(name.slice(LIST_PREFIX.length)))
    return { kind: 'list', name: name.slice(LIST_PREFIX.length) };
  return undefined;
}

/** A key, list name or id: 1 to MAX_NAME characters, no control characters. */
export function goodName(s: string): boolean {
  return s.length >= 1 && s.length <= MAX_NAME && !/[\u0000-\u001f\u007f]/.test(s);
}

/** What is wrong with one map entry's value, or undefined when it fits the layout and the size limit. */
export function entryProblem(root: Root, value: unknown, valueBytes: number, now: number): string | undefined {
  const json = jsonProblem(value, 0);
  if (json) return json;
  if (Buffer.byteLength(JSON.stringify(value)) > valueBytes + (root.kind === 'list' ? 256 : 0))
    return `a value is larger than ${Math.round(valueBytes / 1024)} KB`;
  if (root.kind === 'state') return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a list item is not an object';
  const { v, by, at, c, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || v === undefined) return 'a list item has the wrong fields';
  if (typeof by !== 'string' || by.length < 1 || by.length > MAX_VIEWER)
    return "a list item's author is not a viewer id";
  for (const t of [at, c])
    if (typeof t !== 'number' || t < 0 || t > now + FUTURE_MS) return "a list item's time is not the server's time";
  return undefined;
}

/** Plain JSON only: no undefined, NaN, bigint, bytes or objects with prototypes of their own. */
function jsonProblem(v: unknown, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return `a value nests deeper than ${MAX_DEPTH} levels`;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : 'a value holds a number JSON cannot';
  if (Array.isArray(v)) {
    for (const x of v) {
      const p = jsonProblem(x, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v as object)) {
      const p = jsonProblem(x, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  return 'a value is not JSON';
}
