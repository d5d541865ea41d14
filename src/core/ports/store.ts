// The store port: apps, their versions, builds in progress, published builds and the
// coordination between bot processes (src/store/).

import type { MessageRef } from './chat.ts';
import type { TokenUsage, ViewerReport } from './model.ts';
import type { FileMap } from './sandbox.ts';

export interface AppRecord {
  id: string;
  /** Where the app lives: the channel id and the thread root message id. */
  channelId: string;
  threadId: string; // conversation-level id of the thread (see Conversation ids)
  ownerId: string;
  ownerName?: string;
  title: string;
  summary: string;
  prompt: string;
  createdAt: number; // epoch ms
  updatedAt: number;
  /** Number of the newest version (versions are 1..latest, append-only). 0 while the first is being made. */
  latestVersion: number;
  /** Current sandbox, if any; cleared when it stops. */
  sandboxId?: string;
  /** Where that sandbox serves the app (a Modal tunnel); links use it where there is no gateway. */
  sandboxUrl?: string;
  deleted?: boolean;
  /** The newest version with a published build (served to viewers without a sandbox); unset before the first. */
  publishedVersion?: number;
  /** Set on a remix: the app (and its version) it started from. */
  remixOf?: Lineage;
}

/** Where a remix came from: the source app, its version, and how it was named and owned then. */
export interface Lineage {
  appId: string;
  version: number;
  title: string;
  ownerId: string;
  ownerName?: string;
}

/**
 * A build in progress, as its process records it in the store (crash recovery): if the process
 * dies, another one corrects its status message and stops its sandbox.
 */
export interface BuildRecord {
  id: string;
  /** A remix's `text` is the source app's id. */
  kind: 'create' | 'refine' | 'remix';
  appId: string;
  channelId: string;
  /** The app's thread (a refinement; a create's is its status message's). */
  threadId?: string;
  /** The status message the build keeps up to date. */
  status: MessageRef;
  /** What the status message calls it, e.g. `Building "a timer"`. */
  what: string;
  /** The prompt or the change, and who asked: what Retry runs again. */
  text: string;
  /** A Fix it's viewer report: Retry passes it on as data again, never `text` as the instruction. */
  report?: ViewerReport;
  actorId: string;
  startedAt: number;
}

/** One file of a published build: its bytes are the blob `hash`, with `.br`/`.gz` variants where stored. */
export interface PublishedFile {
  hash: string;
  type: string;
  size: number;
  /** Sizes of the compressed variants that were worth storing. */
  br?: number;
  gz?: number;
}

/** What viewers of one version get: its built files, each a content-addressed blob. Written once. */
export interface BuildManifest {
  appId: string;
  version: number;
  /** The source hash (core/apps/source-hash.ts) of the files it was built from. */
  source: string;
  files: Record<string, PublishedFile>;
  publishedAt: number;
}

/**
 * Immutable bytes by key (a sha256 hex digest, plus ".br"/".gz" for a compressed variant).
 * Small on purpose: an S3-compatible bucket implements it in one file.
 */
export interface BlobStore {
  get(key: string): Promise<Uint8Array | undefined>;
  /** Stores `bytes` under `key` unless something is there already; true when it was new. */
  put(key: string, bytes: Uint8Array): Promise<boolean>;
  /** Bytes of every blob `put` has added (the metric). */
  storedBytes(): Promise<number>;
}

export interface VersionRecord {
  appId: string;
  number: number;
  files: FileMap;
  /** What produced it: the prompt, the refinement text, "undo", "restore v3". */
  instruction: string;
  authorId: string;
  createdAt: number;
  usage: TokenUsage;
  model: string;
  /** For undo/restore: the version whose files this one copies. */
  basedOn?: number;
  /** A remix's first version: the other app's version whose files it copies. */
  remixOf?: Lineage;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next (older) page; undefined when this is the last page. */
  next?: string;
  /** Opaque cursor for the previous (newer) page; undefined on the first page. */
  prev?: string;
}

export interface AppStore {
  /** Stores a new app; its thread is mapped to it only by `setThread` (after its first version). */
  createApp(app: Omit<AppRecord, 'latestVersion' | 'createdAt' | 'updatedAt'>): Promise<AppRecord>;
  getApp(appId: string): Promise<AppRecord | undefined>;
  /**
   * Sets the fields in `patch` (undefined clears one), each on its own: concurrent updates of
   * different fields from any number of processes lose none of them.
   */
  updateApp(
    appId: string,
    patch: Partial<Pick<AppRecord, 'title' | 'summary' | 'sandboxId' | 'sandboxUrl' | 'threadId'>>,
  ): Promise<AppRecord>;
  /** Marks deleted and removes it from the thread index; versions are kept. */
  deleteApp(appId: string): Promise<void>;
  /**
   * Appends a version; never loses one to a concurrent append. Returns the stored record with its
   * number. With `expectLatest`, only as the version after that one: if another version landed
   * in between, it throws StaleVersionError and stores nothing (compare-and-set).
   */
  addVersion(
    appId: string,
    v: Omit<VersionRecord, 'appId' | 'number' | 'createdAt'>,
    opts?: { expectLatest?: number },
  ): Promise<VersionRecord>;
  getVersion(appId: string, number: number): Promise<VersionRecord | undefined>;
  /** Newest first. */
  listVersions(appId: string, limit?: number): Promise<VersionRecord[]>;
  /** The app a thread belongs to, once it has a version (never a half-created one). */
  appForThread(threadId: string): Promise<AppRecord | undefined>;
  setThread(threadId: string, appId: string): Promise<void>;
  /** Newest first, paginated by cursor; never scans all apps. */
  appsInChannel(channelId: string, pageSize: number, cursor?: string): Promise<Page<AppRecord>>;
  appsOfUser(userId: string, pageSize: number, cursor?: string): Promise<Page<AppRecord>>;
  /** True the first time `key` is seen within `ttlMs` (event dedupe). */
  firstSeen(key: string, ttlMs: number): Promise<boolean>;
  /** Adds `n` to each windowed counter (one that expires `windowMs` after its first add) and returns the new totals, in order. */
  tally(keys: string[], n: number, windowMs: number): Promise<number[]>;
  /** Current totals of windowed counters (0 when absent or expired), in order. */
  tallies(keys: string[]): Promise<number[]>;
  /**
   * Takes the lease `name` (e.g. "app:<id>") for `ttlMs` unless someone holds it: its fencing
   * token (larger than any before), or undefined. Renew it while working; release it when done.
   */
  acquireLease(name: string, ttlMs: number): Promise<string | undefined>;
  /** False when the lease ran out (someone else may hold it now). */
  renewLease(name: string, token: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, token: string): Promise<void>;
  /** Adds a bot process to the store's list of processes (crash recovery). */
  registerInstance(owner: string): Promise<void>;
  /** Every registered process and its last heartbeat (epoch ms, 0 when it never beat). */
  listInstances(): Promise<{ owner: string; heartbeat: number }[]>;
  heartbeat(owner: string, at: number): Promise<void>;
  /** Removes a process from the list (it stopped cleanly, or its builds were recovered). */
  forgetInstance(owner: string): Promise<void>;
  /** The builds a process has in progress: written by that process alone, whole. */
  setBuilds(owner: string, builds: BuildRecord[]): Promise<void>;
  getBuilds(owner: string): Promise<BuildRecord[]>;
  /** Something to keep for a while (`ttlMs`), e.g. what a Retry button runs again. */
  putNote<T>(key: string, value: T, ttlMs: number): Promise<void>;
  getNote<T>(key: string): Promise<T | undefined>;
  /** Stores a version's published build and makes it the app's `publishedVersion` (never lowering it). */
  addManifest(m: BuildManifest): Promise<void>;
  getManifest(appId: string, version: number): Promise<BuildManifest | undefined>;
  /**
   * A hashed asset (`assets/…`) of any published version of the app: a page of an older version
   * (`/v/<n>/`) asks for its assets by their own names.
   */
  getPublishedAsset(appId: string, path: string): Promise<PublishedFile | undefined>;
  /** The published builds' bytes. */
  readonly blobs: BlobStore;
  close(): Promise<void>;
}
