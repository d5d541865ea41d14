// npm run modal:verify: the checks a person runs once on a real Modal account, to see that what
// the tests prove against the fake (tests/fakes/modal/) holds on the real service. Never part of
// `npm test`. Every sandbox it starts is tagged `vibe-verify: <run id>`, lives in its own Modal
// app (vibe-bot-verify) and is terminated before it exits, even on a failure or Ctrl-C.
//
//   npm run modal:verify                         all checks, in order
//   npm run modal:verify -- --only boot,hmr      a subset (what they need is started anyway)
//   npm run modal:verify -- --keep               leave the sandboxes running and print their ids
//
// VERIFY_IDLE (20s), VERIFY_IDLE_HOLD (2 x idle) and VERIFY_IDLE_GRACE (60s) time the idle check.
import { createHash, randomBytes } from 'node:crypto';
import { ModalClient, Probe, type App, type Image, type Sandbox } from 'modal';
import WebSocket from 'ws';
import { configOrReport, readEnv, type Config } from '../src/config.ts';
import { parseDuration } from '../src/config-schema.ts';
import type { FileMap, Logger } from '../src/core/ports/index.ts';
import { MAX_FILE_BYTES, MAX_FILES } from '../src/core/files.ts';
import { loadTemplate } from '../src/llm/system-prompt.ts';
import { buildTemplateImage } from '../src/sandbox/modal-image.ts';
import { ModalSandboxProvider, TAG_BOT, WORKDIR, type ModalSettings } from '../src/sandbox/modal.ts';
import { TEMPLATE_DIR } from '../src/template.ts';

const TAG_VERIFY = 'vibe-verify';
/** Our own Modal app and published image, unless VIBE_MODAL_APP / VIBE_MODAL_IMAGE are set in the shell (not .env). */
const DEFAULT_APP = 'vibe-bot-verify';
const DEFAULT_IMAGE = 'vibe-sandbox-template-verify';
/** A sandbox left behind by a killed run stops by itself after this long. */
const LIFETIME_MS = 15 * 60_000;
const MIN_NODE: [number, number] = [20, 19];
/** Every program SYNC_SCRIPT (src/sandbox/modal.ts) and templateImageCommands (modal-image.ts) run. */
const TOOLS = 'sh tar find cmp grep mkdir mv rm dirname base64 cat wc node npm'.split(' ');
/** What Vite prints when its dependency cache from the image was not used. */
const REOPTIMIZED =
  /Re-optimizing dependencies|Forced re-optimization|optimized dependencies changed|new dependencies optimized/;

class Skip extends Error {}

type Check = (v: Verify) => Promise<string>;

// ---------------------------------------------------------------- the checks

/** 1. The same Dockerfile text builds the same image (Modal's build cache; a deterministic tar). */
async function checkImage(v: Verify): Promise<string> {
  const t0 = Date.now();
  const first = await v.image();
  const t1 = Date.now();
  const second = await buildTemplateImage(v.client, await v.app(), TEMPLATE_DIR);
  const t2 = Date.now();
  if (first.imageId !== second.imageId)
    throw new Error(`two builds of the same template gave ${first.imageId} and ${second.imageId} (not cached)`);
  await v.publishedImage();
  return `${first.imageId} both times (builds ${secs(t1 - t0)}, ${secs(t2 - t1)}), published as "${v.imageName}"`;
}

/** 2. Node, the tools the scripts use, the template, its packages and Vite's dependency cache. */
async function checkImageContents(v: Verify): Promise<string> {
  const sb = await v.sandbox();
  const script = [
    'node --version',
    `for t in ${TOOLS.join(' ')}; do command -v "$t" >/dev/null 2>&1 || echo "missing program $t"; done`,
    `for f in ${WORKDIR}/package.json ${WORKDIR}/node_modules/vite/package.json ${WORKDIR}/.vite-cache/deps/_metadata.json; do`,
    '  [ -e "$f" ] || echo "missing file $f"',
    'done',
    `echo "deps $(ls ${WORKDIR}/.vite-cache/deps 2>/dev/null | wc -l)"`,
  ].join('\n');
  const { code, out, err } = await run(sb, ['sh', '-c', script]);
  if (code !== 0) throw new Error(`the probe exited ${code}: ${err.trim() || out.trim()}`);
  const lines = out.trim().split('\n');
  const version = lines[0] ?? '';
  const problems = lines.filter((l) => l.startsWith('missing'));
  const [major = 0, minor = 0] = /^v(\d+)\.(\d+)/.exec(version)?.slice(1).map(Number) ?? [];
  if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1]))
    problems.unshift(`node ${version || '(none)'} < ${MIN_NODE.join('.')}`);
  if (problems.length) throw new Error(problems.join('; '));
  const deps = lines.find((l) => l.startsWith('deps '))?.slice(5);
  return `node ${version}, ${TOOLS.length} programs, template and vite in ${WORKDIR}, ${deps} files in .vite-cache/deps`;
}

/** 3. A boot through the real provider, and Vite started on the image's dependency cache. */
async function checkBoot(v: Verify): Promise<string> {
  const b = await v.bootShared();
  // What a browser's first visit makes Vite transform: the page, its entry and the app.
  for (const path of ['dev/', 'dev/src/main.tsx', 'dev/src/App.tsx']) await get(new URL(path, b.url));
  await sleep(3000); // a re-optimization is logged a moment after the import that causes it
  // Was the cache file rewritten after this sandbox started? Its age against the boot, and against
  // package.json, which the image's files were made with (copies of a whole image share one time).
  const stat = await run(b.sb, [
    'node',
    '-e',
    "const m=f=>{try{return require('fs').statSync(f).mtimeMs}catch{return null}};console.log(JSON.stringify({now:Date.now(),meta:m('.vite-cache/deps/_metadata.json'),pkg:m('package.json')}))",
  ]);
  const { now, meta, pkg } = JSON.parse(stat.out) as { now: number; meta: number | null; pkg: number | null };
  const ageMs = meta === null ? NaN : now - meta;
  const rewritten = ageMs < Date.now() - b.startedAt && meta! - (pkg ?? 0) > 1000;
  const cache =
    meta === null
      ? 'no .vite-cache/deps/_metadata.json'
      : rewritten
        ? `.vite-cache/deps/_metadata.json was written ${secs(ageMs)} ago, after this sandbox started`
        : undefined;
  const output = b.output.text();
  const ready = /ready in (\d+ ms)/.exec(output)?.[1];
  const head = `booted in ${secs(b.bootMs)} (${b.id})${ready ? `, Vite ready in ${ready}` : ''}`;
  if (b.output.error && !output)
    throw new Skip(`${head}; cannot read the dev server's output: ${b.output.error}${cache ? `; ${cache}` : ''}`);
  if (!output)
    throw new Skip(`${head}; the dev server's output read through the SDK stayed empty${cache ? `; ${cache}` : ''}`);
  const reoptimized = output.split('\n').filter((l) => REOPTIMIZED.test(l));
  if (reoptimized.length || cache)
    throw new Error(
      `${head}; Vite did not use the image's cache: ${[...reoptimized.map((l) => l.trim()), cache].filter(Boolean).join('; ')}`,
    );
  return `${head}; no re-optimization in its output, dependency cache from the image (${secs(ageMs)} old)`;
}

/** 4. The tunnel is Modal's https one on 443 and serves the light view. */
async function checkTunnel(v: Verify): Promise<string> {
  const b = await v.booted();
  const url = new URL(b.url);
  const problems: string[] = [];
  if (url.protocol !== 'https:') problems.push(`scheme ${url.protocol} (not https)`);
  if (!url.hostname.endsWith('.modal.host')) problems.push(`host ${url.hostname} (not *.modal.host)`);
  if (url.port !== '' && url.port !== '443') problems.push(`port ${url.port} (not 443)`);
  const page = await get(url);
  if (page.status !== 200) problems.push(`GET / answered ${page.status}`);
  if (!page.type.startsWith('text/html')) problems.push(`GET / is ${page.type || 'untyped'} (not HTML)`);
  if (problems.length) throw new Error(`${b.url}: ${problems.join('; ')}`);
  return `${b.url} GET / 200 ${page.type} in ${page.ms} ms`;
}

/** 5. The creator's dev view takes Vite's HMR socket through the tunnel, and an edit reaches it. */
async function checkHmr(v: Verify): Promise<string> {
  const b = await v.booted();
  const socket = await openHmrSocket(b.url);
  try {
    const appUrl = new URL('dev/src/App.tsx', b.url);
    await get(appUrl); // puts App.tsx in Vite's module graph, as the page would
    const marker = `verify-${v.runId}-${randomBytes(4).toString('hex')}`;
    const t0 = Date.now();
    const refused = await v.provider().write(b.id, { ...v.templateFiles, 'src/App.tsx': markedApp(marker) });
    if (refused.length) throw new Error(`the edit was refused: ${refused[0]?.message}`);
    const written = Date.now();
    const update = await waitUntil(10_000, () =>
      socket.messages.find((m) => (/"type":"update"/.test(m) ? m.includes('App.tsx') : /"type":"full-reload"/.test(m))),
    );
    const arrivedMs = Date.now() - t0;
    const served = (await get(new URL(`?t=${Date.now()}`, appUrl))).text.includes(marker);
    const head = `upgrade ${socket.status} in ${socket.ms} ms, write ${written - t0} ms`;
    const kind = update ? (JSON.parse(update) as { type: string }).type : undefined;
    const seen = `${kind ? `"${kind}" message ${arrivedMs} ms after the write began` : 'no HMR message in 10 s'}, the module ${served ? 'serves' : 'does NOT serve'} the edit`;
    if (!update && !served) throw new Error(`${head}; ${seen}`);
    return `${head}; ${seen}`;
  } finally {
    socket.ws.terminate();
  }
}

/** 6. The largest write the bot allows arrives whole (one tar through one exec's stdin). */
async function checkBigWrite(v: Verify): Promise<string> {
  const b = await v.booted();
  const files = bigFiles(v.templateFiles);
  const bytes = Object.values(files).reduce((n, t) => n + Buffer.byteLength(t), 0);
  const t0 = Date.now();
  const refused = await v.provider().write(b.id, files);
  const ms = Date.now() - t0;
  if (refused.length) throw new Error(`refused by the source check: ${refused[0]?.file}: ${refused[0]?.message}`);
  const listing = await run(b.sb, [
    'node',
    '-e',
    "const fs=require('fs'),c=require('crypto'),p=require('path'),o={};const w=d=>{for(const e of fs.readdirSync(d,{withFileTypes:true})){const f=p.join(d,e.name);if(e.isDirectory())w(f);else{const b=fs.readFileSync(f);o[f]=[b.length,c.createHash('sha256').update(b).digest('hex')]}}};w('src');console.log(JSON.stringify(o))",
  ]);
  const there = JSON.parse(listing.out) as Record<string, [number, string]>;
  const wrong = Object.entries(files)
    .filter(([path, text]) => there[path]?.[1] !== sha256(text))
    .map(([path, text]) => `${path} (${there[path]?.[0] ?? 'missing'} of ${Buffer.byteLength(text)} bytes)`);
  const extra = Object.keys(there).filter((p) => !(p in files));
  if (wrong.length || extra.length)
    throw new Error(`after ${secs(ms)}: ${[...wrong.slice(0, 5), ...extra.map((p) => `${p} left over`)].join('; ')}`);
  return `${Object.keys(files).length} files, ${mb(bytes)} in ${secs(ms)} (${mb((bytes * 1000) / ms)}/s), sizes and sha256 match`;
}

/** 7. The app's sandbox reaches nothing outside (by name or by address). */
async function checkEgress(v: Verify): Promise<string> {
  const b = await v.booted();
  const script = `const t=u=>fetch(u,{signal:AbortSignal.timeout(8000)}).then(r=>u+' reached (HTTP '+r.status+')',e=>u+' failed ('+(e.cause?.code??e.cause?.message??e.name)+')');
Promise.all([t('https://example.com'),t('https://1.1.1.1')]).then(r=>{console.log(r.join('; '));process.exit(r.some(x=>x.includes('reached'))?0:3)})`;
  const t0 = Date.now();
  const { code, out } = await run(b.sb, ['node', '-e', script], 30_000).catch((err: unknown) => ({
    code: -1,
    out: `the exec did not finish: ${message(err)}`,
  }));
  const detail = `exit ${code} after ${secs(Date.now() - t0)}: ${out.trim()}`;
  if (code === 0) throw new Error(`egress is open: ${detail}`);
  return detail;
}

/** 8. attach() of a sandbox that is gone, or never was, answers undefined. */
async function checkAttachGone(v: Verify): Promise<string> {
  const sb = await v.sandbox();
  await v.terminate(sb);
  const code = await sb.wait();
  const ids = [sb.sandboxId, 'sb-0000000000000000000000', 'sb-000000000000000000000000'];
  const results = await Promise.all(
    ids.map(async (id) => {
      try {
        const handle = await v.provider().attach('verify-gone', id);
        return { id, ok: handle === undefined, text: handle ? `returned ${handle.url}` : 'undefined' };
      } catch (err) {
        return { id, ok: false, text: `threw ${errorName(err)}: ${message(err)}` };
      }
    }),
  );
  const detail = `terminated (wait ${code}) ${results.map((r) => `${r.id}: ${r.text}`).join('; ')}`;
  if (results.some((r) => !r.ok)) throw new Error(detail);
  return detail;
}

/** 9. sandboxes.list() by tag finds our running sandboxes (stopOrphans relies on it). */
async function checkTagList(v: Verify): Promise<string> {
  const app = await v.app();
  let expected = await v.runningIds();
  if (expected.length === 0) expected = [(await v.sandbox()).sandboxId];
  const found = await listIds(v.client, app.appId, { [TAG_VERIFY]: v.runId });
  const missing = expected.filter((id) => !found.includes(id));
  // The provider's own query (stopOrphans): the bot's tag with this app's name.
  const booted = [...v.bootedIds()];
  const byBot = booted.length ? await listIds(v.client, app.appId, { [TAG_BOT]: v.appName }) : [];
  const botMissing = booted.filter((id) => !byBot.includes(id));
  const detail = `${TAG_VERIFY}=${v.runId}: ${expected.length - missing.length} of ${expected.length} running listed${
    booted.length ? `; ${TAG_BOT}=${v.appName}: ${booted.length - botMissing.length} of ${booted.length}` : ''
  }`;
  if (missing.length || botMissing.length)
    throw new Error(
      `${detail} (not listed: ${[...new Set([...missing, ...botMissing])].join(', ')}); stopOrphans cannot find such sandboxes`,
    );
  return detail;
}

/** 10. A silent open WebSocket through the tunnel keeps a sandbox alive; once it closes, idle stops it. */
async function checkIdleTimeout(v: Verify): Promise<string> {
  const { idleMs, holdMs, graceMs } = v.idle;
  const provider = v.provider({ idleTimeoutMs: idleMs, timeoutMs: holdMs + idleMs + graceMs + 5 * 60_000 });
  const b = await v.boot(provider, `verify-idle-${v.runId}`);
  const socket = await openHmrSocket(b.url);
  const opened = Date.now();
  try {
    while (Date.now() - opened < holdMs) {
      await sleep(2000);
      if ((await provider.status(b.id)) !== 'running')
        throw new Error(
          `stopped ${secs(Date.now() - opened)} after a silent WebSocket opened, with it open (idle ${secs(idleMs)}): Modal counts traffic, not open connections (a dev page's HMR client pings every 30 s)`,
        );
      if (socket.ws.readyState !== WebSocket.OPEN)
        throw new Error(`the socket closed by itself after ${secs(Date.now() - opened)}`);
    }
    socket.ws.close();
    const closedAt = Date.now();
    const stopped = await waitUntil(idleMs + graceMs, async () => (await provider.status(b.id)) === 'stopped', 2000);
    const after = Date.now() - closedAt;
    const head = `idle ${secs(idleMs)}: up ${secs(closedAt - opened)} with only an open WebSocket`;
    if (!stopped) throw new Error(`${head}; still running ${secs(after)} after it closed (idle + grace)`);
    const code = await (await v.client.sandboxes.fromId(b.id)).poll().catch((err: unknown) => message(err));
    return `${head}; stopped ${secs(after)} after it closed (poll() = ${code})`;
  } finally {
    socket.ws.terminate();
  }
}

/** 11. What wait() returns after an exec timeout, a sandbox timeout and a terminate. */
async function checkExitCodes(v: Verify): Promise<string> {
  const timed = async (what: string, fn: () => Promise<number>, t0 = Date.now()) => {
    try {
      const code = await fn();
      return { ok: code !== 0, text: `${what}: wait() = ${code} after ${secs(Date.now() - t0)}` };
    } catch (err) {
      return {
        ok: what.startsWith('exec'),
        text: `${what}: wait() threw "${message(err)}" after ${secs(Date.now() - t0)}`,
      };
    }
  };
  const results = await Promise.all([
    v.sandbox().then(async (sb) => {
      const t0 = Date.now();
      const proc = await sb.exec(['sleep', '30'], { timeoutMs: 2000 });
      return timed('exec timeoutMs 2 s of sleep 30', () => proc.wait(), t0);
    }),
    (async () => {
      const t0 = Date.now(); // the lifetime counts from the create
      const sb = await v.sandbox({ timeoutMs: 10_000 });
      return timed('sandbox timeoutMs 10 s', () => sb.wait(), t0);
    })(),
    v.sandbox().then((sb) =>
      timed('terminate()', async () => {
        await v.terminate(sb);
        return sb.wait();
      }),
    ),
  ]);
  const detail = results.map((r) => r.text).join('; ');
  if (results.some((r) => !r.ok)) throw new Error(detail);
  return detail;
}

const CHECKS: [string, Check, number?][] = [
  ['image', checkImage, 30 * 60_000],
  ['image-contents', checkImageContents],
  ['boot', checkBoot],
  ['tunnel', checkTunnel],
  ['hmr', checkHmr],
  ['big-write', checkBigWrite],
  ['egress', checkEgress],
  ['attach-gone', checkAttachGone],
  ['tag-list', checkTagList],
  ['idle-timeout', checkIdleTimeout, 60 * 60_000],
  ['exit-codes', checkExitCodes],
];

// ---------------------------------------------------------------- what the checks share

interface Booted {
  id: string;
  url: string;
  /** A handle of our own on the provider's sandbox, for execs and its output. */
  sb: Sandbox;
  startedAt: number;
  bootMs: number;
  output: OutputTap;
}

/** The Modal app, the image, the providers and every sandbox this run started (to end them all). */
class Verify {
  readonly runId = `${new Date().toISOString().slice(0, 16).replace(/\D/g, '')}-${randomBytes(3).toString('hex')}`;
  private appP?: Promise<App>;
  private imageP?: Promise<Image>;
  private publishedP?: Promise<void>;
  private bootedP?: Promise<Booted>;
  private mainProvider?: ModalSandboxProvider;
  private readonly providers: ModalSandboxProvider[] = [];
  private readonly bootedSandboxes = new Map<string, { provider: ModalSandboxProvider; output?: OutputTap }>();
  private readonly rawSandboxes = new Set<Sandbox>();

  constructor(
    readonly client: ModalClient,
    readonly config: Config,
    readonly appName: string,
    readonly imageName: string,
    readonly templateFiles: FileMap,
    readonly idle: { idleMs: number; holdMs: number; graceMs: number },
    private readonly logger: Logger,
  ) {}

  app(): Promise<App> {
    this.appP ??= this.client.apps.fromName(this.appName, { createIfMissing: true });
    return this.appP;
  }

  /** This checkout's template image (built once per run; Modal caches the layers). */
  image(): Promise<Image> {
    this.imageP ??= this.app().then((app) => buildTemplateImage(this.client, app, TEMPLATE_DIR));
    return this.imageP;
  }

  /** The image published under our name, so the provider boots exactly this checkout's image. */
  publishedImage(): Promise<void> {
    this.publishedP ??= this.image().then((image) => image.publish(this.imageName));
    return this.publishedP;
  }

  settings(overrides: Partial<ModalSettings> = {}): ModalSettings {
    return {
      appName: this.appName,
      imageName: this.imageName,
      timeoutMs: Math.min(this.config.VIBE_SANDBOX_TIMEOUT, LIFETIME_MS),
      idleTimeoutMs: Math.min(this.config.VIBE_IDLE_TIMEOUT, 5 * 60_000),
      cpu: this.config.VIBE_SANDBOX_CPU,
      memoryMiB: this.config.VIBE_SANDBOX_MEMORY,
      bootTimeoutMs: this.config.VIBE_SANDBOX_BOOT_TIMEOUT,
      ...overrides,
    };
  }

  /** The provider the bot would build (src/app.ts), with this run's app and image; a new one when given overrides. */
  provider(overrides?: Partial<ModalSettings>): ModalSandboxProvider {
    if (!overrides && this.mainProvider) return this.mainProvider;
    const provider = new ModalSandboxProvider({
      client: this.client,
      settings: this.settings(overrides),
      templateDir: TEMPLATE_DIR,
      logger: this.logger,
    });
    this.providers.push(provider);
    if (!overrides) this.mainProvider = provider;
    return provider;
  }

  /** Boots a sandbox through `provider`, tagged with this run, and remembers it. */
  async boot(provider: ModalSandboxProvider, appId: string): Promise<{ id: string; url: string }> {
    await this.publishedImage();
    const handle = await provider.boot(appId, undefined, { [TAG_VERIFY]: this.runId });
    this.bootedSandboxes.set(handle.id, { provider });
    return handle;
  }

  /** The shared app sandbox of checks 3 to 7, booted by the first check that needs it. */
  bootShared(): Promise<Booted> {
    this.bootedP ??= (async () => {
      await this.publishedImage(); // a build first is not boot time
      const startedAt = Date.now();
      const { id, url } = await this.boot(this.provider(), `verify-${this.runId}`);
      const bootMs = Date.now() - startedAt;
      const sb = await this.client.sandboxes.fromId(id);
      const output = new OutputTap([sb.stdout, sb.stderr]);
      this.bootedSandboxes.get(id)!.output = output;
      return { id, url, sb, startedAt, bootMs, output };
    })();
    return this.bootedP;
  }

  /** The shared app sandbox for the checks that use it: a skip when it could not boot. */
  booted(): Promise<Booted> {
    return this.bootShared().catch((err: unknown) => {
      throw new Skip(`no app sandbox: the boot failed (${message(err)})`);
    });
  }

  bootedIds(): string[] {
    return [...this.bootedSandboxes.keys()];
  }

  /** A plain sandbox from the image (no dev server), tagged with this run, once it runs. */
  async sandbox(params: { timeoutMs?: number } = {}): Promise<Sandbox> {
    const sb = await this.client.sandboxes.create(await this.app(), await this.image(), {
      command: ['sleep', '3600'],
      workdir: WORKDIR,
      timeoutMs: params.timeoutMs ?? LIFETIME_MS,
      // Create answers before the container runs; an exec before then is refused.
      readinessProbe: Probe.withExec(['true']),
      tags: { [TAG_VERIFY]: this.runId },
    });
    this.rawSandboxes.add(sb);
    await sb.waitUntilReady(120_000);
    return sb;
  }

  async terminate(sb: Sandbox): Promise<void> {
    await sb.terminate();
    this.rawSandboxes.delete(sb);
  }

  /** Ids of the sandboxes this run started that still run. */
  async runningIds(): Promise<string[]> {
    const ids: string[] = [];
    for (const sb of this.rawSandboxes) if ((await sb.poll().catch(() => 0)) === null) ids.push(sb.sandboxId);
    for (const [id, { provider }] of this.bootedSandboxes) if ((await provider.status(id)) === 'running') ids.push(id);
    return ids;
  }

  /** Terminates everything this run started (or, with `keep`, lets go of it); returns the ids. */
  async cleanup(keep: boolean): Promise<string[]> {
    for (const { output } of this.bootedSandboxes.values()) output?.stop();
    const ids = keep
      ? await this.runningIds().catch(() => this.bootedIds())
      : [...this.bootedIds(), ...[...this.rawSandboxes].map((sb) => sb.sandboxId)];
    if (!keep) {
      const stops = [
        ...[...this.bootedSandboxes].map(([id, { provider }]) => provider.stop(id)),
        ...[...this.rawSandboxes].map((sb) => sb.terminate()),
      ];
      const failed = (await Promise.allSettled(stops)).filter((r) => r.status === 'rejected');
      for (const f of failed) process.stderr.write(`could not terminate a sandbox: ${message(f.reason)}\n`);
      // Anything started but not yet handed back (a boot cut short by Ctrl-C), if list() shows it.
      if (this.appP) {
        const app = await this.appP.catch(() => undefined);
        const left = app ? await listIds(this.client, app.appId, { [TAG_VERIFY]: this.runId }).catch(() => []) : [];
        for (const id of left.filter((i) => !ids.includes(i))) {
          await (await this.client.sandboxes.fromId(id)).terminate().catch(() => undefined);
          ids.push(id);
        }
      }
    }
    for (const p of this.providers) await p.stopAll(); // lets go of the handles and ends the parser process
    return ids;
  }
}

/** Reads a sandbox's own output streams in the background. */
class OutputTap {
  private chunks: string[] = [];
  error?: string;
  private readonly readers: ReadableStreamDefaultReader<string>[];

  constructor(streams: ReadableStream<string>[]) {
    this.readers = streams.map((s) => s.getReader());
    for (const reader of this.readers)
      void (async () => {
        try {
          for (let r = await reader.read(); !r.done; r = await reader.read()) this.chunks.push(r.value);
        } catch (err) {
          this.error ??= message(err);
        }
      })();
  }

  text(): string {
    return this.chunks.join('');
  }

  stop(): void {
    for (const r of this.readers) r.cancel().catch(() => undefined);
  }
}

// ---------------------------------------------------------------- helpers

async function run(
  sb: Sandbox,
  argv: string[],
  timeoutMs = 60_000,
): Promise<{ code: number; out: string; err: string }> {
  const proc = await sb.exec(argv, { workdir: WORKDIR, timeoutMs });
  const [out, err, code] = await Promise.all([proc.stdout.readText(), proc.stderr.readText(), proc.wait()]);
  return { code, out, err };
}

async function get(url: URL): Promise<{ status: number; type: string; text: string; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, ms: Date.now() - t0 };
}

/**
 * Vite's HMR socket on the creator's view (`<url>dev/`, protocol `vite-hmr`), opened as its
 * client in a browser does: with the page's Origin and the token from /@vite/client.
 */
async function openHmrSocket(url: string): Promise<{ ws: WebSocket; status: number; ms: number; messages: string[] }> {
  const base = new URL('dev/', url);
  const client = await get(new URL('@vite/client', base));
  const token = /const wsToken = "([^"]*)"/.exec(client.text)?.[1];
  const target = new URL(base);
  target.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token) target.search = `?token=${encodeURIComponent(token)}`;
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(target, 'vite-hmr', {
      headers: token ? { Origin: base.origin } : {},
      handshakeTimeout: 15_000,
    });
    const messages: string[] = [];
    let status = 0;
    ws.on('message', (data: WebSocket.RawData) => messages.push(String(data)));
    ws.once('upgrade', (res) => (status = res.statusCode ?? 0));
    ws.once('open', () => resolve({ ws, status, ms: Date.now() - t0, messages }));
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      reject(new Error(`the WebSocket upgrade to ${base.pathname} answered ${res.statusCode} (not 101)`));
    });
    ws.once('error', (err) => reject(new Error(`the WebSocket upgrade to ${base.pathname} failed: ${err.message}`)));
  });
}

function markedApp(marker: string): string {
  return `export default function App() {
  return (
    <main className="min-h-screen bg-slate-900 p-8 text-white">
      <h1 className="text-3xl font-bold">${marker}</h1>
    </main>
  );
}
`;
}

/** MAX_FILES files of nearly MAX_FILE_BYTES each: the template's own, padded, and plain modules. */
function bigFiles(template: FileMap): FileMap {
  const files: FileMap = {};
  for (const [path, text] of Object.entries(template))
    files[path] = pad(text, (i, hex) => (path.endsWith('.css') ? `/* ${i} ${hex} */\n` : `// ${i} ${hex}\n`));
  for (let n = 1; Object.keys(files).length < MAX_FILES; n++)
    files[`src/big/part${String(n).padStart(2, '0')}.ts`] = pad('', (i, hex) => `export const s${i} = '${hex}';\n`);
  return files;
}

function pad(text: string, line: (i: number, hex: string) => string): string {
  const lines = [text];
  let size = Buffer.byteLength(text);
  for (let i = 1; ; i++) {
    const next = line(i, randomBytes(48).toString('hex'));
    if (size + next.length > MAX_FILE_BYTES - 512) return lines.join('');
    lines.push(next);
    size += next.length;
  }
}

async function listIds(client: ModalClient, appId: string, tags: Record<string, string>): Promise<string[]> {
  const ids: string[] = [];
  for await (const sb of client.sandboxes.list({ appId, tags })) ids.push(sb.sandboxId);
  return ids;
}

/** Polls `test` every `everyMs` until it yields something truthy or `timeoutMs` passes. */
async function waitUntil<T>(timeoutMs: number, test: () => T | Promise<T>, everyMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await test();
    if (value) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
const errorName = (err: unknown) =>
  err instanceof Error ? `${err.constructor.name}${'code' in err ? ` (code ${String(err.code)})` : ''}` : typeof err;

function durationEnv(name: string, fallbackMs: number): number {
  const raw = process.env[name];
  if (!raw) return fallbackMs;
  const ms = parseDuration(raw);
  if (ms === undefined || ms <= 0) throw new Error(`${name}="${raw}" is not a duration (e.g. 20s, 2m)`);
  return ms;
}

/** Warnings and errors of the provider on stderr; its info lines with VERIFY_DEBUG=1. */
function consoleLogger(): Logger {
  const write = (level: string) => (obj: object, msg?: string) =>
    process.stderr.write(`  (provider ${level}) ${msg ?? ''} ${JSON.stringify(obj)}\n`);
  const quiet = () => undefined;
  const debug = Boolean(process.env.VERIFY_DEBUG);
  return {
    info: debug ? write('info') : quiet,
    debug: debug ? write('debug') : quiet,
    warn: write('warn'),
    error: write('error'),
  };
}

// ---------------------------------------------------------------- the runner

/** Runs one check and prints its line; a Skip is a skip, any other error a failure. */
async function check(v: Verify, name: string, fn: Check, timeoutMs = 10 * 60_000): Promise<'ok' | 'FAIL' | 'skip'> {
  if (process.stderr.isTTY) process.stderr.write(`  … ${name}\r`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${secs(timeoutMs)}`)), timeoutMs);
  });
  let status: 'ok' | 'FAIL' | 'skip';
  let detail: string;
  try {
    detail = await Promise.race([fn(v), timeout]);
    status = 'ok';
  } catch (err) {
    status = err instanceof Skip ? 'skip' : 'FAIL';
    detail = message(err);
  } finally {
    clearTimeout(timer);
  }
  process.stdout.write(`${status.padEnd(4)} ${name.padEnd(WIDTH)}  ${detail}\n`);
  return status;
}
const WIDTH = Math.max(...CHECKS.map(([n]) => n.length));

function parseArgs(argv: string[]): { only?: Set<string>; keep: boolean } | string {
  let only: Set<string> | undefined;
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--keep') keep = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const list = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      only = new Set(
        (list ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
      const unknown = [...only].filter((n) => !CHECKS.some(([c]) => c === n));
      if (unknown.length || only.size === 0)
        return `unknown check ${unknown.join(', ') || '(none given)'}; the checks are: ${CHECKS.map(([c]) => c).join(', ')}`;
    } else return `unknown argument ${arg}; usage: modal-verify [--only name,...] [--keep]`;
  }
  return { only, keep };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    process.stderr.write(`${args}\n`);
    return 2;
  }
  const appName = process.env.VIBE_MODAL_APP || DEFAULT_APP;
  const imageName = process.env.VIBE_MODAL_IMAGE || DEFAULT_IMAGE;
  const config = configOrReport({ ...readEnv(), VIBE_MODAL_APP: appName, VIBE_MODAL_IMAGE: imageName });
  if (!config) return 2;
  if (!config.MODAL_TOKEN_ID || !config.MODAL_TOKEN_SECRET) {
    process.stderr.write(
      'Set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET (in the environment or .env). Create a token with `modal token new`\n' +
        '(pip install modal) or at https://modal.com/settings/tokens; see docs/modal.md.\n',
    );
    return 2;
  }
  const idleMs = durationEnv('VERIFY_IDLE', 20_000);
  const idle = {
    idleMs,
    holdMs: durationEnv('VERIFY_IDLE_HOLD', 2 * idleMs),
    graceMs: durationEnv('VERIFY_IDLE_GRACE', 60_000),
  };
  const templateFiles = (await loadTemplate(TEMPLATE_DIR)).templateFiles;
  const client = new ModalClient({ tokenId: config.MODAL_TOKEN_ID, tokenSecret: config.MODAL_TOKEN_SECRET });
  const v = new Verify(client, config, appName, imageName, templateFiles, idle, consoleLogger());
  process.stdout.write(
    `modal:verify run ${v.runId}: app "${appName}", image "${imageName}", sandboxes tagged ${TAG_VERIFY}=${v.runId}\n`,
  );

  const counts = { ok: 0, FAIL: 0, skip: 0 };
  const summary = () => `${counts.ok} passed, ${counts.FAIL} failed, ${counts.skip} skipped`;
  let finishing: Promise<never> | undefined;
  const finish = (code: number): Promise<never> =>
    (finishing ??= (async () => {
      const ids = await v.cleanup(args.keep).catch((err: unknown) => {
        process.stderr.write(`clean-up failed: ${message(err)}; look for tag ${TAG_VERIFY}=${v.runId} in Modal\n`);
        return [];
      });
      if (ids.length)
        process.stdout.write(
          args.keep
            ? `kept (they stop by themselves within 15 min, or stop them in the Modal dashboard): ${ids.join(' ')}\n`
            : `ended ${ids.length} sandbox${ids.length === 1 ? '' : 'es'} of this run\n`,
        );
      client.close();
      process.exit(code);
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (finishing) process.exit(130); // a second Ctrl-C: leave at once
      process.stderr.write(`\n${signal}: ending this run's sandboxes (Ctrl-C again to leave them)…\n`);
      process.stdout.write(`interrupted: ${summary()}\n`);
      void finish(130);
    });

  for (const [name, fn, timeoutMs] of CHECKS) {
    if (args.only && !args.only.has(name)) continue;
    counts[await check(v, name, fn, timeoutMs)]++;
  }
  process.stdout.write(`${summary()}\n`);
  return finish(counts.FAIL === 0 ? 0 : 1);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`modal:verify stopped: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
