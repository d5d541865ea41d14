import { createHash } from 'node:crypto';

/** Namespaces may only hold characters that are literal in SQL LIKE-free prefixes and Redis globs. */
const NAMESPACE_RE = /^[A-Za-z0-9_-]{1,40}$/;

export function checkNamespace(namespace: string): string {
  if (!NAMESPACE_RE.test(namespace))
    throw new Error(`invalid store namespace "${namespace}": use 1-40 of [A-Za-z0-9_-]`);
  return namespace;
}

/**
 * One id inside a key. Encoding removes ":" so keys stay unambiguous whatever a platform's ids
 * look like; long parts are hashed so keys fit the SQL adapters' VARCHAR(255) key column.
 */
export function keyPart(raw: string): string {
  const encoded = encodeURIComponent(raw);
  if (encoded.length <= 100) return encoded;
  return `h.${createHash('sha256').update(raw).digest('base64url')}`;
}

/** Index names: the channel and user lists are the same structure under different roots. */
export type IndexName = `chan:${string}` | `user:${string}`;

/** Every key the store writes, all under `<namespace>:`. */
export class StoreKeys {
  readonly prefix: string;

  constructor(namespace: string) {
    this.prefix = `${checkNamespace(namespace)}:`;
  }

  app(appId: string): string {
    return `${this.prefix}app:${keyPart(appId)}`;
  }
  /** Counter that hands out version numbers. */
  versionSeq(appId: string): string {
    return `${this.app(appId)}:vseq`;
  }
  /** Highest version fully written (raised monotonically, kept apart from the record so updates cannot lower it). */
  latest(appId: string): string {
    return `${this.app(appId)}:latest`;
  }
  /** 1 once deleted; a flag of its own so a concurrent updateApp cannot undo a delete. */
  deleted(appId: string): string {
    return `${this.app(appId)}:deleted`;
  }
  /** Last activity time (epoch ms, raised monotonically). */
  touched(appId: string): string {
    return `${this.app(appId)}:touched`;
  }
  version(appId: string, n: number): string {
    return `${this.app(appId)}:v:${n}`;
  }
  /**
   * The app's shared state (`@vibe/shared`): `seq` numbers its log (a counter), `head` says
   * where the log starts, `s:<gen>` is a compacted snapshot and `u:<n>` one update.
   */
  shared(appId: string, part: 'seq' | 'head' | `s:${number}` | `u:${number}`): string {
    return `${this.app(appId)}:sh:${part}`;
  }
  thread(threadId: string): string {
    return `${this.prefix}thread:${keyPart(threadId)}`;
  }
  channelIndex(channelId: string): IndexName {
    return `chan:${keyPart(channelId)}`;
  }
  userIndex(userId: string): IndexName {
    return `user:${keyPart(userId)}`;
  }
  indexSeq(index: IndexName): string {
    return `${this.prefix}${index}:seq`;
  }
  indexSlot(index: IndexName, n: number): string {
    return `${this.prefix}${index}:i:${n}`;
  }
  seen(key: string): string {
    return `${this.prefix}seen:${keyPart(key)}`;
  }
  /** One field of the app record set by updateApp (written alone, so concurrent updates of other fields survive). */
  appField(appId: string, field: string): string {
    return `${this.app(appId)}:f:${field}`;
  }
  /** Highest version with a published build (a counter, raised monotonically). */
  published(appId: string): string {
    return `${this.app(appId)}:pub`;
  }
  manifest(appId: string, n: number): string {
    return `${this.app(appId)}:m:${n}`;
  }
  /** A hashed asset name of any of the app's published versions. */
  publishedAsset(appId: string, path: string): string {
    return `${this.app(appId)}:a:${keyPart(path)}`;
  }
  /** A published file's bytes (content-addressed: shared by every app and version). */
  blob(key: string): string {
    return `${this.prefix}blob:${key}`;
  }
  /** Bytes of every blob stored (a counter). */
  blobBytes(): string {
    return `${this.prefix}blob-bytes`;
  }
  /** A lease (e.g. on one app, while a process changes it), and the counter its fencing tokens come from. */
  lease(name: string): string {
    return `${this.prefix}lease:${keyPart(name)}`;
  }
  leaseSeq(): string {
    return `${this.prefix}lease-seq`;
  }
  /** The list of bot processes: a counter of slots, each slot one process, and each process's own keys. */
  instanceSeq(): string {
    return `${this.prefix}inst-seq`;
  }
  instanceSlot(n: number): string {
    return `${this.prefix}inst:${n}`;
  }
  instanceSlotOf(owner: string): string {
    return `${this.prefix}inst-of:${keyPart(owner)}`;
  }
  heartbeat(owner: string): string {
    return `${this.prefix}inst-hb:${keyPart(owner)}`;
  }
  builds(owner: string): string {
    return `${this.prefix}builds:${keyPart(owner)}`;
  }
  note(key: string): string {
    return `${this.prefix}note:${keyPart(key)}`;
  }
  /** Windowed counter (fair-use limits). */
  tally(key: string): string {
    return `${this.prefix}tally:${keyPart(key)}`;
  }
}
