import { hostname } from 'node:os';
import { newId } from '../ids.ts';
import type { AppStore, BuildRecord, Logger } from '../ports/index.ts';

export interface BuildJournalOptions {
  /** How often this process says it is alive. */
  heartbeatMs?: number;
  /** A process silent for this long is dead, and its builds are recovered by another. */
  staleMs?: number;
  now?: () => number;
}

/**
 * The builds this process has in progress, kept in the store with a heartbeat, so that when it
 * dies (killed, crashed, the machine gone) another process on the same store finds them: see
 * `VibeBot.recover()`. Each process writes only its own list.
 */
export class BuildJournal {
  /** This process among the bot's processes: host, pid and a random part (pids repeat across machines). */
  readonly owner = `${hostname()}:${process.pid}:${newId().slice(0, 6)}`;
  readonly staleMs: number;
  private readonly builds = new Map<string, BuildRecord>();
  private writing?: Promise<void>;
  private queued?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private readonly heartbeatMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: AppStore,
    private readonly logger: Logger,
    opts: BuildJournalOptions = {},
  ) {
    this.heartbeatMs = opts.heartbeatMs ?? 5_000;
    this.staleMs = opts.staleMs ?? 20_000;
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    await this.store.registerInstance(this.owner);
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  /** A clean stop: this process leaves the list (its builds have ended by now). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await (this.queued ?? this.writing);
    if (this.builds.size === 0) await this.store.forgetInstance(this.owner);
  }

  /** Records a build before it starts; the returned function removes it when it ends, however it ends. */
  async track(build: Omit<BuildRecord, 'id' | 'startedAt'>): Promise<() => Promise<void>> {
    const record: BuildRecord = { ...build, id: newId(), startedAt: this.now() };
    this.builds.set(record.id, record);
    await this.persist();
    return async () => {
      this.builds.delete(record.id);
      await this.persist();
    };
  }

  /** The app ids being built right now by any live process (this one included): their sandboxes are no orphans. */
  async liveAppIds(): Promise<Set<string>> {
    const ids = new Set([...this.builds.values()].map((b) => b.appId));
    for (const { owner } of await this.live()) for (const b of await this.store.getBuilds(owner)) ids.add(b.appId);
    return ids;
  }

  /** Processes that stopped beating, with the builds they left behind. */
  async dead(): Promise<{ owner: string; builds: BuildRecord[] }[]> {
    const now = this.now();
    const gone = (await this.store.listInstances()).filter(
      (i) => i.owner !== this.owner && now - i.heartbeat > this.staleMs,
    );
    return Promise.all(gone.map(async ({ owner }) => ({ owner, builds: await this.store.getBuilds(owner) })));
  }

  private async live(): Promise<{ owner: string }[]> {
    const now = this.now();
    return (await this.store.listInstances()).filter(
      (i) => i.owner !== this.owner && now - i.heartbeat <= this.staleMs,
    );
  }

  private async beat(): Promise<void> {
    await this.store
      .heartbeat(this.owner, this.now())
      .catch((err: unknown) => this.logger.warn({ err }, 'could not record this process as alive'));
  }

  /**
   * Writes the whole list. One write at a time; while one runs, the changes after it are
   * gathered into a single next write (which every one of them waits for), so a burst of builds
   * costs two writes, not one per build.
   */
  private persist(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.writing) return this.write();
    this.queued = this.writing.then(() => {
      this.queued = undefined;
      return this.write();
    });
    return this.queued;
  }

  private write(): Promise<void> {
    const done: Promise<void> = this.store
      .setBuilds(this.owner, [...this.builds.values()])
      .catch((err: unknown) => this.logger.warn({ err }, 'could not record the builds in progress'))
      .finally(() => {
        if (this.writing === done) this.writing = undefined;
      });
    this.writing = done;
    return done;
  }
}
