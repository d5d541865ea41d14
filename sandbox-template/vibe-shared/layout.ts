// How shared state sits in the app's Yjs document. The bot's server (src/shared-state/layout.ts)
// checks every write against exactly this and refuses anything else.
//
//   root map "s"         useSharedState: key -> the value (JSON)
//   root map "l:<name>"  useSharedList <name>: item id -> { v: value, by: viewer id, at: ms, c: created ms }

export const STATE_ROOT = 's';
export const LIST_PREFIX = 'l:';
/** Longest state key, list name or item id. */
export const MAX_NAME = 100;
/** Largest value, as JSON. */
export const MAX_VALUE_BYTES = 16 << 10;

/** The server's close codes (src/shared-state/limits.ts). */
export const CLOSE = { refused: 4400, tooLarge: 4413, rateLimited: 4429, reset: 4409, gone: 4404, full: 4503 };

/** The message kinds on the socket: y-protocols' sync, and the server's hello. */
export const MESSAGE = { sync: 0, hello: 3 };

/** A stored list item. */
export interface StoredItem {
  v: unknown;
  by: string;
  at: number;
  c: number;
}

/** A key, list name or id: 1 to MAX_NAME characters, no control characters. */
export function goodName(s: unknown): s is string {
  return typeof s === 'string' && s.length >= 1 && s.length <= MAX_NAME && !/[\u0000-\u001f\u007f]/.test(s);
}
