// The ports of an app's shared state (`@vibe/shared`, see docs/shared-state.md): what the core
// asks of it (`SharedData`: `/vibe data`, reset, delete, export, the browser check's scratch
// copy) and where it is kept (`SharedLog`, implemented on the store). The live part (Yjs docs,
// the WebSocket at `/__vibe/shared`) lives in src/shared-state/.

/** The module apps import it from: a template file (sandbox-template/vibe-shared/), no package. */
export const SHARED_MODULE = '@vibe/shared';

/** What `/vibe data` shows: the state's stored size and what it holds. */
export interface SharedDataStats {
  /** Bytes of the compacted state (Yjs's encoding of it). */
  bytes: number;
  /** Keys set with `useSharedState`. */
  keys: number;
  /** Each `useSharedList` list with its item count, largest first. */
  lists: { name: string; items: number }[];
  /** Pages connected to it through this bot process now. */
  connections: number;
  /** The limits it counts against: bytes of state, list items in all. */
  limits: { bytes: number; items: number };
}

/** The state as plain JSON: `data.json` in the export zip. */
export interface SharedDataExport {
  /** `useSharedState` keys and their values. */
  state: Record<string, unknown>;
  /** `useSharedList` lists, oldest item first. */
  lists: Record<string, { id: string; value: unknown; by: string; at: number }[]>;
}

/**
 * A WebSocket the browser check's page opens, answered by the bot itself (no network): bytes in
 * both directions. The check browser adapts Playwright's WebSocket route to it.
 */
export interface PageSocket {
  send(data: Uint8Array): void;
  close(code: number, reason: string): void;
  onMessage(listener: (data: Uint8Array) => void): void;
  onClose(listener: () => void): void;
}

/**
 * A scratch copy of an app's shared state for one browser check: what the page reads is the
 * real state as it was, what it writes goes nowhere. `open` answers one page socket; `close`
 * drops the copy.
 */
export interface ScratchState {
  open(socket: PageSocket): void;
  close(): void;
}

/** The app's shared state as the core uses it. */
export interface SharedData {
  stats(appId: string): Promise<SharedDataStats>;
  /** Clears it for good (`/vibe data reset`): open pages drop their copy and start empty. */
  reset(appId: string): Promise<void>;
  /** Removes it with the app (delete). */
  remove(appId: string): Promise<void>;
  /** Undefined when the app never stored anything. */
  exportData(appId: string): Promise<SharedDataExport | undefined>;
  scratch(appId: string): Promise<ScratchState>;
}

/** An app's state as stored: an epoch (a new one per reset) and its updates, a snapshot first. */
export interface SharedLogRead {
  epoch: string;
  /** The compaction generation the updates start from. */
  gen: number;
  /** The highest update number read. */
  seq: number;
  updates: Uint8Array[];
}

/**
 * Where shared state is kept, per app, in the bot's store: an append-only log of Yjs updates
 * (numbered by a counter, so any number of processes append without losing one) that
 * `compact` folds into a snapshot; `messages` carries each append to the other bot processes.
 */
export interface SharedLog {
  /** Everything stored; with `after`, only what came since that read (all of it again after a compaction or reset). */
  read(appId: string, after?: { gen: number; seq: number; epoch: string }): Promise<SharedLogRead>;
  /** Appends one update under `epoch` (ignored by readers once the epoch is reset); its number. */
  append(appId: string, epoch: string, update: Uint8Array): Promise<number>;
  /**
   * Folds the log into one snapshot made by `merge` (which gets the stored updates, the old
   * snapshot first). One process at a time; false when another is at it.
   */
  compact(appId: string, merge: (read: SharedLogRead) => Uint8Array): Promise<boolean>;
  /** Empties it under a new epoch, which it returns. */
  reset(appId: string): Promise<string>;
  /** Removes everything stored (the app is deleted). */
  remove(appId: string): Promise<void>;
  /** Messages between the bot processes sharing the store (see SharedBus). */
  readonly bus: SharedBus;
}

/**
 * Fan-out between bot processes on one store: Redis pub/sub, PostgreSQL LISTEN/NOTIFY, or
 * in-process only (SQLite, memory). `crossProcess` false: other processes learn of a change
 * only when they next read the log.
 */
export interface SharedBus {
  readonly crossProcess: boolean;
  publish(message: string): Promise<void>;
  /** `onResync` runs when messages may have been missed (a reconnect): read the log again. */
  subscribe(onMessage: (message: string) => void, onResync: () => void): () => void;
}
