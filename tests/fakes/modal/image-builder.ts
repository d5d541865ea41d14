import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { ServerError, Status } from 'nice-grpc';
import type { FakeImage } from './fake-image.ts';
import { GenericStatus } from './fake-sandbox.ts';
import { childPids } from './host-pid.ts';
import { markBuiltImage } from './sandbox-root.ts';

/**
 * The fake's image builder: it really runs an image's Dockerfile commands, each `RUN` as
 * `sh -c <cmd>` under bubblewrap, offline.
 *
 * - The base image (`FROM node:*`, any tag) is the host's own root filesystem, read-only: the
 *   host's Node (`process.execPath`) and npm stand in for the image's.
 * - An image's writable layer is a set of top-level directories: `/app` and `/root` (HOME)
 *   always, plus the top-level directory of every `WORKDIR` (which must not exist on the host,
 *   `/root` and `/app` aside). Only these persist from one `RUN` to the next, and into derived
 *   images; everything else is the host's, read-only. `/tmp` is a fresh tmpfs in every `RUN`, so
 *   a build that stashes files in /tmp between steps fails, as it may on Modal.
 * - A derived image (`FROM base`) starts from a copy of its base's layer, or shares it when its
 *   own commands are only metadata (`WORKDIR`, `ENV`).
 * - `WORKDIR` sets the cwd of later steps (created like Docker does) and the image's workdir;
 *   `ENV` sets variables for later `RUN` steps (not for sandboxes). Any other instruction fails
 *   the build.
 * - `npm` runs offline (`npm_config_offline`) from the host's npm cache, the one the template
 *   install filled. npm cannot install from a read-only cache: it appends an index entry on every
 *   cache hit, and an EROFS there surfaces as ENOTCACHED. So each builder makes its own cache:
 *   a copy of the host's index (small) with the host's content (large, content-addressed,
 *   never rewritten) bound read-only into it. The host cache is never written.
 *
 * Builds are cached like Modal's (the control plane maps the same base and commands to the same
 * image id; this builds each id once) and run in the background while the SDK polls
 * ImageJoinStreaming. Everything lives under `dir`; `close()` kills builds in progress.
 */

/** GenericResult as ImageGetOrCreate / ImageJoinStreaming report it. */
export interface BuildResult {
  status: number;
  exception: string;
}

/** A RUN step: its exit code and duration once it has ended. */
export interface RunStep {
  imageId: string;
  command: string;
  exitCode?: number;
  ms?: number;
}

/** One TaskLogs entry of a build. FileDescriptor: 1 stdout, 2 stderr, 3 info. */
interface LogEntry {
  data: string;
  fileDescriptor: 1 | 2 | 3;
}

interface Layer {
  /** Top-level name (`app`) -> host folder mounted there. */
  dirs: Map<string, string>;
  /** Cwd of the next RUN, and the image's workdir: `/` until a WORKDIR. */
  cwd: string;
  env: Record<string, string>;
}

interface Build {
  image: FakeImage;
  layer?: Layer;
  logs: LogEntry[];
  result?: BuildResult;
  done: Promise<void>;
  wake: () => void;
  changed: Promise<void>;
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const HOME = '/root';
/** Writable in every image, whatever its commands: the bot's image writes /app before its WORKDIR. */
const ALWAYS_WRITABLE = ['app', 'root'];
/** Where a RUN step sees this builder's npm cache (not a host path, so bwrap can create it). */
const NPM_CACHE_MOUNT = '/.npm-cache';
/** Output kept for a failed step's message. */
const FAILURE_TAIL = 4000;

export class ImageBuilder {
  readonly #builds = new Map<string, Build>();
  readonly #procs = new Set<ChildProcess>();
  #closed = false;
  #npmCache?: { dir: string; hostContent?: string };
  /** Every RUN step started, in order, over every build (a cached build adds none). */
  readonly steps: RunStep[] = [];

  /** `dir`: a folder of its own, under the fake's workDir. */
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /**
   * Starts building `image` unless it was built or is building; `base` must have been built.
   * Returns the result when the build has finished already.
   */
  start(image: FakeImage): BuildResult | undefined {
    let build = this.#builds.get(image.imageId);
    if (!build) {
      let wake!: () => void;
      const changed = new Promise<void>((r) => (wake = r));
      build = { image, logs: [], done: Promise.resolve(), wake, changed };
      this.#builds.set(image.imageId, build);
      const b = build;
      b.done = this.#run(b).then(
        (result) => this.#finish(b, result),
        (err: unknown) =>
          this.#finish(b, {
            status: GenericStatus.FAILURE,
            exception: err instanceof Error ? err.message : String(err),
          }),
      );
    }
    return build.result;
  }

  /** The build's result, or undefined while it runs (or was never started). */
  result(imageId: string): BuildResult | undefined {
    return this.#builds.get(imageId)?.result;
  }

  failed(imageId: string): boolean {
    const r = this.result(imageId);
    return r !== undefined && r.status !== GenericStatus.SUCCESS;
  }

  /**
   * ImageJoinStreaming: log entries after `lastEntryId` as they come, then the result (with
   * `eof`). Ends without a result after `timeoutSecs`, or when `signal` aborts; the SDK calls
   * again with the last entry id it saw.
   */
  async *join(imageId: string, lastEntryId: string, timeoutSecs: number, signal?: AbortSignal): AsyncGenerator<object> {
    const build = this.#builds.get(imageId);
    if (!build) throw new ServerError(Status.NOT_FOUND, `Image ${imageId} not found`);
    let sent = Number(lastEntryId) || 0;
    const deadline = Date.now() + (timeoutSecs > 0 ? timeoutSecs : 55) * 1000;
    for (;;) {
      const changed = build.changed;
      const result = build.result;
      if (build.logs.length > sent) {
        const taskLogs = build.logs.slice(sent).map((l) => ({ ...l, timestamp: Date.now() / 1000 }));
        sent = build.logs.length;
        yield { taskLogs, entryId: String(sent) };
      }
      if (result) {
        yield { result, entryId: String(sent), eof: true, imageId };
        return;
      }
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) return;
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      await Promise.race([
        changed,
        new Promise<void>((r) => {
          timer = setTimeout(r, left);
          onAbort = r;
          signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Host folder of a built image's workdir (`/app` when it has none), for its sandboxes; undefined
   * when none of its commands is a RUN (nothing was built: an empty folder will do). Throws while
   * the image is building or when its build failed.
   */
  imageDir(image: FakeImage): string | undefined {
    const build = this.#builds.get(image.imageId);
    if (!build?.result) throw new ServerError(Status.FAILED_PRECONDITION, `Image ${image.imageId} is not built`);
    if (build.result.status !== GenericStatus.SUCCESS)
      throw new ServerError(Status.FAILED_PRECONDITION, `Image ${image.imageId} failed to build`);
    if (!image.allCommands.some((c) => instruction(c) === 'RUN')) return undefined;
    return this.#sandboxDir(build);
  }

  /** Where path `p` (e.g. `/app/package.json`) of a built image's layer is on the host. */
  hostPath(imageId: string, p: string): string {
    const layer = this.#builds.get(imageId)?.layer;
    if (!layer) throw new Error(`Image ${imageId} has no layer`);
    const [top = '', ...rest] = path.posix.normalize(p).split('/').filter(Boolean);
    const dir = layer.dirs.get(top);
    if (!dir) throw new Error(`${p} is not in a writable directory of image ${imageId}`);
    return path.join(dir, ...rest);
  }

  /** Kills builds in progress (they end TERMINATED) and waits for them. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#procs].map((proc) => killStep(proc)));
    await Promise.all([...this.#builds.values()].map((b) => b.done));
    for (const b of this.#builds.values())
      if (b.result?.status === GenericStatus.SUCCESS) markBuiltImage(this.#sandboxDir(b), false);
  }

  #finish(build: Build, result: BuildResult): void {
    build.result = result;
    // Its sandboxes get its node_modules in place and its .vite-cache (see sandbox-root.ts).
    if (result.status === GenericStatus.SUCCESS) markBuiltImage(this.#sandboxDir(build), true);
    this.#wakeJoiners(build);
  }

  /** What a sandbox of this image gets at its workdir: the layer's folder of the image's WORKDIR, or /app. */
  #sandboxDir(build: Build): string {
    const cwd = build.layer?.cwd ?? '/';
    return this.hostPath(build.image.imageId, cwd === '/' ? '/app' : cwd);
  }

  #log(build: Build, data: string, fileDescriptor: LogEntry['fileDescriptor']): void {
    build.logs.push({ data, fileDescriptor });
    this.#wakeJoiners(build);
  }

  #wakeJoiners(build: Build): void {
    const wake = build.wake;
    build.changed = new Promise<void>((r) => (build.wake = r));
    wake();
  }

  async #run(build: Build): Promise<BuildResult> {
    const { image } = build;
    const commands = image.dockerfileCommands.map((c) => c.trim()).filter((c) => c !== '');
    const imageDir = path.join(this.dir, image.imageId);
    let layer: Layer;
    let own: string[];
    if (image.baseImageId) {
      if (commands[0] !== 'FROM base') throw new Error(`a derived image starts with FROM base, not ${commands[0]}`);
      const base = this.#builds.get(image.baseImageId);
      if (!base?.layer || base.result?.status !== GenericStatus.SUCCESS)
        throw new Error(`base image ${image.baseImageId} has not been built`);
      own = commands.slice(1);
      const share = onlyMetadata(own, base.layer);
      layer = { dirs: new Map(), cwd: base.layer.cwd, env: { ...base.layer.env } };
      for (const [top, dir] of base.layer.dirs) {
        if (share) layer.dirs.set(top, dir);
        else {
          const copy = path.join(imageDir, top);
          await cp(dir, copy, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
          layer.dirs.set(top, copy);
        }
      }
    } else {
      const tag = /^FROM\s+(\S+)$/i.exec(commands[0] ?? '')?.[1];
      if (!tag || !/^node:/.test(tag))
        throw new Error(`fake Modal builds only node:* images (the host's root filesystem), not ${commands[0]}`);
      own = commands.slice(1);
      layer = { dirs: new Map(), cwd: '/', env: {} };
      for (const top of ALWAYS_WRITABLE) layer.dirs.set(top, mkdir(path.join(imageDir, top)));
    }
    build.layer = layer;

    for (const [i, cmd] of own.entries()) {
      this.#log(build, `=> Step ${i + 1}/${own.length}: ${cmd.length > 200 ? `${cmd.slice(0, 200)}…` : cmd}\n`, 3);
      const [op = '', rest = ''] = splitInstruction(cmd);
      if (op === 'WORKDIR') {
        const dir = path.posix.resolve(layer.cwd, rest);
        const top = topLevel(dir);
        if (!top) throw new Error('WORKDIR / is not supported by the fake image builder');
        if (!layer.dirs.has(top)) {
          if (existsSync(`/${top}`))
            throw new Error(`WORKDIR ${rest}: the fake image builder cannot write under the host's /${top}`);
          layer.dirs.set(top, mkdir(path.join(imageDir, top)));
        }
        layer.cwd = dir;
        mkdirSync(hostPathIn(layer, dir)!, { recursive: true });
      } else if (op === 'ENV') {
        Object.assign(layer.env, parseEnv(rest));
      } else if (op === 'RUN') {
        const { code, output } = await this.#runStep(build, layer, rest);
        if (code !== 0) {
          const tail = output.length > FAILURE_TAIL ? `…${output.slice(-FAILURE_TAIL)}` : output;
          const shown = rest.length > 200 ? `${rest.slice(0, 200)}…` : rest;
          return {
            status: this.#closed ? GenericStatus.TERMINATED : GenericStatus.FAILURE,
            exception: `RUN ${shown} failed with exit code ${code}:\n${tail}`,
          };
        }
      } else {
        throw new Error(`fake Modal's image builder does not support ${op || cmd}`);
      }
    }
    return { status: GenericStatus.SUCCESS, exception: '' };
  }

  /** One RUN step: `sh -c cmd` under bwrap; resolves with its exit code and output. */
  #runStep(build: Build, layer: Layer, cmd: string): Promise<{ code: number; output: string }> {
    if (this.#closed) return Promise.resolve({ code: 143, output: 'fake Modal closed\n' });
    const step: RunStep = { imageId: build.image.imageId, command: cmd };
    this.steps.push(step);
    const cache = this.#cache();
    const started = Date.now();
    const env: Record<string, string> = {
      PATH,
      HOME,
      npm_config_offline: 'true',
      npm_config_cache: NPM_CACHE_MOUNT,
      npm_config_update_notifier: 'false',
      ...layer.env,
    };
    const args = stepArgs(layer, cache);
    const proc = spawn('bwrap', [...args, '--', 'sh', '-c', cmd], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, for the fallback kill
    });
    this.#procs.add(proc);
    let output = '';
    const onData = (fd: 1 | 2) => (d: Buffer) => {
      const text = d.toString('utf8');
      output = (output + text).slice(-FAILURE_TAIL * 2);
      this.#log(build, text, fd);
    };
    proc.stdout.on('data', onData(1));
    proc.stderr.on('data', onData(2));
    return new Promise((resolve) => {
      proc.once('error', (err) => {
        output += `${err.message}\n`;
      });
      proc.once('close', (code, signal) => {
        this.#procs.delete(proc);
        step.exitCode = code ?? (signal ? 137 : 1);
        step.ms = Date.now() - started;
        this.#log(build, `=> exit ${step.exitCode} after ${(step.ms / 1000).toFixed(1)} s\n`, 3);
        resolve({ code: step.exitCode, output });
      });
    });
  }

  /** This builder's npm cache (see the class comment), made on the first RUN. */
  #cache(): { dir: string; hostContent?: string } {
    if (this.#npmCache) return this.#npmCache;
    const dir = path.join(this.dir, 'npm-cache');
    const cacache = path.join(dir, '_cacache');
    mkdirSync(path.join(cacache, 'tmp'), { recursive: true });
    const host = hostNpmCache();
    const hostCacache = host ? path.join(host, '_cacache') : undefined;
    let hostContent: string | undefined;
    if (hostCacache && existsSync(path.join(hostCacache, 'content-v2'))) {
      if (existsSync(path.join(hostCacache, 'index-v5')))
        cpSync(path.join(hostCacache, 'index-v5'), path.join(cacache, 'index-v5'), { recursive: true });
      hostContent = path.join(hostCacache, 'content-v2');
      mkdirSync(path.join(cacache, 'content-v2'));
    }
    this.#npmCache = { dir, hostContent };
    return this.#npmCache;
  }
}

/**
 * bwrap arguments for a RUN step: the host's `/` read-only entry by entry (bwrap cannot create
 * mount points such as `/app` inside a read-only bind; see bwrap-args.ts), fresh /dev, /proc and
 * /tmp, the layer's folders read-write, the npm cache, no network, its own pid namespace.
 */
function stepArgs(layer: Layer, cache: { dir: string; hostContent?: string }): string[] {
  const own = new Set([...layer.dirs.keys(), topLevel(NPM_CACHE_MOUNT), 'dev', 'proc', 'sys', 'tmp']);
  const args: string[] = [];
  for (const entry of readdirSync('/')) {
    if (own.has(entry)) continue;
    const hostPath = `/${entry}`;
    if (lstatSync(hostPath).isSymbolicLink()) args.push('--symlink', readlinkSync(hostPath), hostPath);
    else args.push('--ro-bind', hostPath, hostPath);
  }
  args.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp');
  for (const [top, dir] of layer.dirs) args.push('--bind', dir, `/${top}`);
  args.push('--bind', cache.dir, NPM_CACHE_MOUNT);
  if (cache.hostContent) args.push('--ro-bind', cache.hostContent, `${NPM_CACHE_MOUNT}/_cacache/content-v2`);
  args.push('--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent');
  args.push('--chdir', layer.cwd);
  return args;
}

let hostCache: string | null | undefined;

/** The host's npm cache (`npm config get cache`), where the template install put its packages. */
function hostNpmCache(): string | undefined {
  if (hostCache === undefined) {
    try {
      hostCache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim() || null;
    } catch {
      hostCache = null;
    }
  }
  return hostCache ?? undefined;
}

/** Ends a RUN step's bwrap and everything in it; resolves once bwrap has exited. */
async function killStep(proc: ChildProcess): Promise<void> {
  if (!proc.pid || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<true>((r) => proc.once('close', () => r(true)));
  // As fake-sandbox.ts does: killing the pid namespace's init ends every process in it, and bwrap,
  // still alive, reaps it and exits (no zombies for the host's pid 1). The group kill is the fallback.
  for (const pid of childPids(proc.pid)) tryKill(pid);
  const gone = await Promise.race([exited, new Promise<false>((r) => setTimeout(() => r(false), 1000))]);
  if (!gone) tryKill(-proc.pid);
  await exited;
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Host path of `p` in the layer, if `p` is under one of its folders. */
function hostPathIn(layer: Layer, p: string): string | undefined {
  const [top = '', ...rest] = p.split('/').filter(Boolean);
  const dir = layer.dirs.get(top);
  return dir === undefined ? undefined : path.join(dir, ...rest);
}

/**
 * True when a derived image's own commands change no file of its base's layer, so it can share
 * it: `ENV`s, and `WORKDIR`s into folders the base has already.
 */
function onlyMetadata(own: string[], base: Layer): boolean {
  let cwd = base.cwd;
  for (const cmd of own) {
    const [op, rest] = splitInstruction(cmd);
    if (op === 'ENV') continue;
    if (op !== 'WORKDIR') return false;
    cwd = path.posix.resolve(cwd, rest);
    const dir = hostPathIn(base, cwd);
    if (!dir || !existsSync(dir)) return false;
  }
  return true;
}

function mkdir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

function topLevel(p: string): string {
  return path.posix.normalize(p).split('/')[1] ?? '';
}

function instruction(cmd: string): string {
  return splitInstruction(cmd.trim())[0] ?? '';
}

function splitInstruction(cmd: string): [string, string] {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(cmd);
  return m ? [m[1]!.toUpperCase(), m[2]!] : ['', ''];
}

/** `ENV A=1 B="two words"` or `ENV A 1`. */
function parseEnv(rest: string): Record<string, string> {
  const unquote = (v: string) => v.replace(/^"(.*)"$/, '$1');
  if (!/^\S+=/.test(rest)) {
    const [key = '', ...value] = rest.split(/\s+/);
    return { [key]: value.join(' ') };
  }
  const env: Record<string, string> = {};
  for (const m of rest.matchAll(/(\w+)=("[^"]*"|\S*)/g)) env[m[1]!] = unquote(m[2]!);
  return env;
}
