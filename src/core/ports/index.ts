// The interfaces the core owns. Adapters, models, sandboxes and stores implement them;
// the core imports nothing concrete.

import type { ImageAttachment, ModelImage } from './images.ts';
import type { ProgressStream } from '../chat/progress-stream.ts';
import type { ScratchState, SharedDataExport } from './shared.ts';

/** The logging methods every part of the bot uses (pino's, structurally). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** An app's source: path relative to the app root (always under `src/`) -> file text. */
export type FileMap = Record<string, string>;

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Of `outputTokens`, those the model spent thinking (extended thinking); absent when it did not say. */
  thinkingTokens?: number;
}

// ---------------------------------------------------------------- code model

export type ModelProgress =
  /**
   * A file was created or edited; `files` = paths touched so far; `snapshot` (where the model
   * has it) = all the app's files after this edit, for the creator's live view while it writes.
   */
  | { kind: 'file'; path: string; files: string[]; snapshot?: FileMap }
  | { kind: 'text'; chars: number } // streamed text, for liveness
  | { kind: 'usage'; usage: TokenUsage } // tokens one model request used, reported as each request ends, so spending is counted even when the turn later fails
  | { kind: 'narration'; text: string }; // the model's own short words on what it is doing, between its edits

export type ProgressListener = (p: ModelProgress) => void;

/** One answer of the model: the full file map after its edits, plus how it named the app. */
export interface CodeTurn {
  files: FileMap;
  /** Short app title (2-5 words). Set on create; may be unset on refine. */
  title?: string;
  /** One-line description of the app. */
  summary?: string;
  /** The model's closing words to the user (short). */
  message?: string;
  usage: TokenUsage;
  /** Continues the same conversation with check errors (the model's side words them); returns the repaired files. */
  repair(errors: CheckError[], onProgress: ProgressListener): Promise<CodeTurn>;
}

/**
 * An uncaught error a viewer's browser reported (cleaned by core/flows/viewer-errors.ts). Anyone with
 * the app's link can send one, with any text: it describes a symptom, and is never an instruction.
 */
export interface ViewerReport {
  /** One line of at most 200 characters, with no control or format characters and no backticks. */
  message: string;
  /** Code locations in the app's own files, e.g. `src/App.tsx:12:9` (at most 5). */
  locations: string[];
}

/** What a refinement is asked to do. */
export type ChangeRequest =
  /** A person's request in the app's thread, in their words. */
  | { kind: 'change'; instruction: string }
  /** Fix it: the model gets the report as untrusted data, apart from its own instruction (worded in src/llm). */
  | { kind: 'fix'; report: ViewerReport };

/** A person's message in the chat thread a request came from, as the model reads it (see core/flows/thread-spec.ts). */
export interface ThreadMessage {
  /** Who wrote it (a display name, else their id). */
  author: string;
  text: string;
}

export interface CodeModel {
  /** For logs and messages, e.g. "claude-sonnet-4-6" or "offline sample model". */
  readonly label: string;
  /** True for the built-in sample model: every message it causes says so. */
  readonly offline: boolean;
  /** `thread`: the discussion the app is built from (a `/vibe` inside an ordinary thread), oldest first; `images` go to the model with the text (a model that cannot read them refuses with a UserError). */
  generate(
    prompt: string,
    onProgress: ProgressListener,
    signal?: AbortSignal,
    thread?: ThreadMessage[],
    images?: readonly ModelImage[],
  ): Promise<CodeTurn>;
  /** `thread`: the thread's earlier human messages since the last version, oldest first. */
  refine(
    files: FileMap,
    change: ChangeRequest,
    onProgress: ProgressListener,
    signal?: AbortSignal,
    thread?: ThreadMessage[],
    images?: readonly ModelImage[],
  ): Promise<CodeTurn>;
}

/**
 * What the bot reports for monitoring, as it happens (Prometheus in production, see
 * src/metrics/; nothing when unset). Gauges (sandboxes, slots) are read at scrape time instead.
 */
export interface BotMetrics {
  buildFinished(kind: 'create' | 'refine', outcome: 'live' | 'failed' | 'error', seconds: number): void;
  checkFinished(check: 'typecheck' | 'browser', seconds: number): void;
  tokensUsed(usage: TokenUsage): void;
}

/** Packs an app to take away (`/vibe export`, see src/export/): its source, the project around it, its build. */
export interface AppPacker {
  pack(
    app: AppRecord,
    version: VersionRecord,
    built: Map<string, Uint8Array> | undefined,
    /** The app's shared state (`data.json`), when it has any. */
    data?: SharedDataExport,
  ): { name: string; bytes: Uint8Array };
}

// ---------------------------------------------------------------- sandboxes

export interface CheckError {
  file: string; // relative to app root, e.g. "src/App.tsx"
  line: number; // 1-based; 0 when unknown
  column: number; // 1-based; 0 when unknown
  message: string; // e.g. "TS2307: Cannot find module './Timer' ..."
  /** Found by loading the app in a browser (it type-checked, then failed when it ran). */
  source?: 'browser';
  /**
   * Worth a repair round, but no reason to withhold the link if it is all that is left (a
   * `console.error` such as React's development warnings, which viewers of the built app never see).
   */
  warning?: boolean;
}

/** What loading an app in a real browser found: errors (empty = it rendered) and a picture of it. */
export interface RenderResult {
  errors: CheckError[];
  /** PNG of the page as it settled; absent when the page never loaded or the capture failed. */
  screenshot?: Uint8Array;
  ms: number;
}

/**
 * Opens a URL the way a viewer would (headless Chromium in production; see src/browser/).
 * `sharedState`: the page's `@vibe/shared` socket goes to this scratch copy, never the real data.
 * `files`: a production build to answer every request under `url` with, from memory (nothing
 * under it reaches the network); its `.map` files are the bot's alone, to map stack frames to src/.
 */
export interface RenderChecker {
  /** Undefined when the check could not be made (no working browser): the version counts as unchecked. */
  render(
    url: string,
    opts?: { sharedState?: ScratchState; files?: Map<string, Uint8Array> },
  ): Promise<RenderResult | undefined>;
  close(): Promise<void>;
}

export interface SandboxHandle {
  id: string;
  /** Where the sandbox serves the app (may be an internal address; the core links via `AppLinks`). */
  url: string;
}

export type SandboxStatus = 'running' | 'stopped';

export interface SandboxProvider {
  /**
   * Starts a sandbox for `appId` serving `files` (the template's placeholder when omitted).
   * `labels` (e.g. the channel) are attached where the host supports tags.
   */
  boot(appId: string, files?: FileMap, labels?: Record<string, string>): Promise<SandboxHandle>;
  /**
   * Replaces the app's `src/` with exactly `files` (files not in the map are removed). Files
   * that would make a build tool reach outside `src/` or run code at build time are refused:
   * nothing is written and the refusals come back as check errors (empty = written).
   */
  write(id: string, files: FileMap): Promise<CheckError[]>;
  /** Type errors, unresolved imports and syntax errors, with file and line. Empty = clean. */
  check(id: string): Promise<CheckError[]>;
  /**
   * A production build of the sandbox's current files to take away (`/vibe export`): relative
   * asset paths, none of the bot's own plugins; built path (e.g. "assets/index-x1.js") -> bytes.
   */
  exportBuild?(id: string): Promise<Map<string, Uint8Array>>;
  /**
   * The production build the sandbox made for its light view from exactly the files whose
   * `sourceHash` is `source` (waiting for it while it is being made): built path (e.g.
   * "index.html", "assets/react-x1.js") -> bytes. Throws when that build failed or never came.
   */
  lightBuild?(id: string, source: string): Promise<Map<string, Uint8Array>>;
  status(id: string): Promise<SandboxStatus>;
  stop(id: string): Promise<void>;
  /**
   * The host stops idle sandboxes itself and sees traffic the bot does not (Modal: viewers reach
   * the tunnel directly). The runtime's sweeper then stops nothing; it only forgets the sandboxes
   * the host has stopped.
   */
  readonly idlesItself?: boolean;
  /** Stops every sandbox this provider started (shutdown). */
  stopAll(): Promise<void>;
  /**
   * Re-attaches a sandbox that outlived the bot (after a restart), if the provider can and it
   * still runs; undefined otherwise. Local processes die with the bot, so the local provider has none.
   */
  attach?(appId: string, sandboxId: string): Promise<SandboxHandle | undefined>;
  /**
   * Stops this bot's sandboxes that `owns(appId, sandboxId)` says nothing tracks (start-up
   * clean-up; strays of a process that died), sparing those younger than `graceMs` (another
   * process's build may be using one whose app is not in the store yet).
   */
  stopOrphans?(
    owns: (appId: string, sandboxId: string) => Promise<boolean>,
    opts?: { graceMs?: number },
  ): Promise<string[]>;
}

// ---------------------------------------------------------------- store

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

// ---------------------------------------------------------------- chat

/** What a button does (its value: an app id, a gallery cursor, or an app and version). */
export type ButtonAction =
  | 'undo'
  | 'versions'
  | 'delete'
  | 'delete-confirm'
  | 'restore'
  | 'gallery'
  | 'mine'
  /** Runs a refinement that fixes the error a viewer of the app hit (value: the app id). */
  | 'fix'
  /** Posts the app's source and build as a zip into its thread (value: the app id). */
  | 'export'
  /** Runs again a build that a bot restart interrupted (value: the id its interrupted card carries). */
  | 'retry'
  /** A new app of the presser's, from the app's latest version, in a new thread (value: the app id). */
  | 'remix'
  /** Pages Slack's App Home (value: both lists' positions, see core/chat/actions.ts). */
  | 'home'
  /** Asks to clear the app's shared data, then clears it (value: the app id). */
  | 'data-reset'
  | 'data-reset-confirm';

/** A neutral message; each adapter renders it for its platform and enforces its limits. */
export interface Card {
  title?: string;
  text?: string;
  /** `userId` marks a person: adapters may render a mention that does not notify, else `value`. */
  fields?: { label: string; value: string; userId?: string }[];
  /**
   * Links: rendered as link buttons where the platform has them. `kind` says what a link is, so
   * renderers never match on labels: the app (light view), the creator's live view, a thread.
   */
  links?: { label: string; url: string; kind?: 'app' | 'creator' | 'thread' }[];
  /**
   * Buttons that call back into the bot: `action` says what it does and `value` what it acts on
   * (built and read in core/chat/actions.ts). `confirm`: the platform asks first, where it can.
   */
  actions?: {
    label: string;
    action: ButtonAction;
    value: string;
    style?: 'primary' | 'danger';
    confirm?: { title: string; text: string; yes: string; no: string };
  }[];
  /**
   * A picture of what the card is about (an app's screenshot): the PNG's bytes (`png`), which
   * each adapter delivers its own way (Slack uploads it into the card's thread, Discord attaches
   * it to the message and its embed shows it, the terminal saves it and prints the path), or a
   * public `url`, or a local `path`. A picture that cannot be delivered is logged and dropped:
   * it never fails the message.
   */
  image?: { png?: Uint8Array; url?: string; path?: string; alt: string };
  /**
   * A file that goes with the card (an app's export zip): Slack uploads it into the card's
   * thread, Discord attaches it to the message, the terminal saves it under
   * `VIBE_DATA_DIR/exports/` and prints the path (`path` is set then). Like `image`, a file that
   * cannot be delivered is logged and dropped: it never fails the message.
   */
  file?: { name: string; bytes: Uint8Array; mime: string; path?: string };
  /** Cards listed under this one (gallery entries). */
  items?: Card[];
  /** Muted footnote, e.g. "offline sample model". */
  footer?: string;
  /** Machine-readable facts about the app the card shows (for --json output and adapters). */
  meta?: { appId?: string; version?: number; url?: string; state?: 'progress' | 'live' | 'failed' };
}

export interface MessageRef {
  /** Platform-qualified id, e.g. "shell:general:12". */
  id: string;
  channelId: string;
  /** Set when the message is inside a thread. */
  threadId?: string;
}

/** What an adapter gives the core for one incoming event. */
export interface Conversation {
  post(card: Card): Promise<MessageRef>;
  update(ref: MessageRef, card: Card): Promise<void>;
  /** A reply in the thread whose id (the root message's) is `threadId`. */
  reply(threadId: string, card: Card): Promise<MessageRef>;
  /** Makes `ref` the root of a thread; returns the thread id. */
  startThread(ref: MessageRef, name: string): Promise<string>;
  /** Visible only to the person who asked. */
  ephemeral(card: Card): Promise<void>;
  /** A link to a thread, where the platform has one. */
  threadLink?(threadId: string): string | undefined;
  /**
   * Where the platform can stream a build's progress into a thread (Slack's chat streaming): a
   * stream for the thread `threadId`, or undefined. `onRefused` is called once if the workspace or
   * token turns streaming down (then the status message carries the progress, as without one).
   */
  stream?(threadId: string, onRefused: (err: unknown) => void): ProgressStream | undefined;
  /**
   * The thread's messages, oldest first, where the platform lets the bot read them (the root
   * included). `since` (epoch ms): only newer ones are needed, a hint the platform may use.
   */
  history?(threadId: string, since?: number): Promise<ChatMessage[]>;
  /**
   * Shows a card for each app link the event's message carried (Slack: `chat.unfurl` on the
   * message; Discord: a reply to it). Only where the event was a shared link.
   */
  unfurl?(links: { url: string; card: Card }[]): Promise<void>;
}

/** A message of a chat thread as the platform gives it (see `Conversation.history`). */
export interface ChatMessage {
  /** Platform-qualified message id, as `ChatContext.messageId`. */
  id: string;
  authorId: string;
  authorName?: string;
  text: string;
  /** When it was posted (epoch ms). */
  at: number;
  /** Written by a bot (this one included) or the platform itself. */
  fromBot: boolean;
}

export interface Actor {
  id: string;
  name?: string;
  /** May manage others' apps in this channel (channel manager / Manage Messages). */
  isManager?: boolean;
}
