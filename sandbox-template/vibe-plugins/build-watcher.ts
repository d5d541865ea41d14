import { spawn, type ChildProcess } from 'node:child_process';
import { utimesSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'vite';
import { isBuildMessage } from './build-message.ts';
import type { LightSite } from './light-site.ts';
import { readSourceHash } from './source-hash.ts';

export interface BuildWatcherOptions {
  /** The app dir (Vite's root). */
  root: string;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Where each finished build goes. */
  site: LightSite;
  /** Vite's CLI (`vite build --watch` is run with it). */
  script: string;
}

/** How long the build child must have been quiet before a waiting request restarts it. */
const STALL_MS = 1_500;
/** How soon after a build whose files changed under it the child is made to look again. */
const RECHECK_MS = 30;
/** The build child's niceness (see start). */
const BUILD_NICENESS = 5;
/**
 * Touched (its timestamp, never its content) to make the build child look at src/ again: a module
 * its build reads, and a style module, which the creator's dev view takes as a style update, not
 * a reload (a new file in src/ made the dev view reload). An app without it waits for the nudge.
 */
export const TOUCHED_FILE = 'src/index.css';

/** Runs and restarts the `vite build --watch` child, and publishes each build it reports. */
export class BuildWatcher {
  private child?: ChildProcess;
  private stopped = false;
  private publishing: Promise<unknown> = Promise.resolve();
  private buildStarted = 0;
  private restarts = 0;
  /** A build has started and not yet reported; when the child last said anything. */
  private building = false;
  private lastHeard = Date.now();
  /** The child is being replaced on purpose (see nudge): its exit is not a crash. */
  private replacing = false;

  constructor(private readonly opts: BuildWatcherOptions) {}

  start(): void {
    const { logger, site } = this.opts;
    const child = spawn(
      process.execPath,
      [this.opts.script, 'build', '--watch', '--configLoader', 'runner', '--logLevel', 'warn'],
      {
        cwd: this.opts.root,
        // Production React and no dev-only code paths in what viewers get.
        env: { ...process.env, NODE_ENV: 'production' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    this.child = child;
    // A new child builds first thing.
    this.building = true;
    this.lastHeard = Date.now();
    // The creator's hot reload comes first, a little: at nice 5 the rebuild for viewers (and the
    // link, which waits for it) is not starved by the dev server and the creator's browser. Bench,
    // medians of 5 (overhead, refinement -> viewers, hot reload): nice 15 1,153/871/95 ms, nice 5
    // 817/786/123 ms, nice 0 1,108/737/125 ms. Again with React built once (vendor-chunks.ts; a
    // build is about 35 ms): at nice 0 the creator's view first rendered after the link (3,053
    // against 2,743 ms), at nice 5 before it (2,374 against 2,618 ms), the overhead within noise.
    if (child.pid) {
      try {
        setPriority(child.pid, BUILD_NICENESS);
      } catch {
        // not permitted here (some containers): the build then competes at equal priority
      }
    }
    child.on('message', (m) => {
      if (!isBuildMessage(m)) return;
      this.lastHeard = Date.now();
      this.building = m.type === 'vibe:build-start';
      if (m.type === 'vibe:build-start') {
        this.buildStarted = Date.now();
        return;
      }
      setTimeout(() => this.recheck(m.source), RECHECK_MS).unref();
      if (m.type === 'vibe:build-failed') {
        this.publishing = this.publishing.then(() => site.failed(m.source, m.message));
        return;
      }
      const files = m.files.map((f) => ({ path: f.path, body: Buffer.from(f.base64, 'base64') }));
      // One swap at a time, in build order.
      this.publishing = this.publishing
        .then(() => site.publish(files, m.source))
        .then(
          (version) =>
            logger.info(`light build ${version} live ${Date.now() - this.buildStarted} ms after its build started`, {
              timestamp: true,
            }),
          (err: Error) => logger.error(`light build not published: ${err.message}`, { timestamp: true }),
        );
    });
    child.on('exit', (code, signal) => {
      if (this.stopped || child !== this.child) return;
      this.building = false;
      if (this.replacing) {
        this.replacing = false;
        return this.start();
      }
      // A crashed build child must not leave viewers on an old version for good.
      logger.error(`light build watcher exited (${signal ?? code}); restarting`, { timestamp: true });
      if (this.restarts++ < 5) setTimeout(() => !this.stopped && this.start(), 1000 * this.restarts).unref();
    });
  }

  /**
   * A write that lands while a build runs may go unseen by the child's watcher (rolldown's): when
   * src/ is no longer what the last build started from and no build has started since,
   * TOUCHED_FILE is touched, which the child's watcher does see.
   */
  private recheck(built: string): void {
    if (this.stopped || this.building) return;
    try {
      if (readSourceHash(this.opts.root) === built) return;
      const now = new Date();
      utimesSync(join(this.opts.root, TOUCHED_FILE), now, now);
    } catch {
      // src/ is being rewritten, or has no TOUCHED_FILE: the next write, or the bot's wait (nudge), builds it
    }
  }

  /**
   * The bot waits for the build of `source`: when those files are on disk and the child has been
   * idle a while after its last build, its watcher missed them; a new child builds them at once.
   */
  nudge(source: string): void {
    if (this.stopped || this.replacing || this.building || Date.now() - this.lastHeard < STALL_MS) return;
    let onDisk: string;
    try {
      onDisk = readSourceHash(this.opts.root);
    } catch {
      return; // src/ is being rewritten: ask again on the next tick
    }
    if (onDisk !== source) return;
    this.opts.logger.warn('light build watcher missed a write; starting it again', { timestamp: true });
    this.replacing = true;
    this.lastHeard = Date.now();
    this.child?.kill('SIGTERM');
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill('SIGTERM');
  }
}
