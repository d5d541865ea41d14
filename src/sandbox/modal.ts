import { BuildFailedError } from '../core/errors.ts';
import { MAX_BUILD_ANSWER_BYTES, readBuiltFiles } from './built-files.ts';
import { EXPORT_TIMEOUT_MS, exportBuildArgv } from './export-build.ts';
import { LIGHT_BUILD_TIMEOUT_MS, lightBuildArgv } from './light-build-fetch.ts';
import { InvalidError, Probe, TimeoutError, type App, type Image, type ModalClient, type Sandbox } from 'modal';
import { UserError } from '../core/errors.ts';
import { assertValidFiles } from '../core/files.ts';
import type {
  CheckError,
  FileMap,
  Logger,
  SandboxHandle,
  SandboxProvider,
  SandboxStatus,
} from '../core/ports/index.ts';
import { errorText, isDeadlineExceeded, isGone, isResourceExhausted } from './modal-errors.ts';
import { DeadlineError, execOutput, sendStdin, stderrTail, SYNC_SCRIPT, withDeadline } from './modal-exec.ts';
import { publishedTemplateImage } from './modal-image.ts';
import { combineCheck, libraryNames } from './source-check.ts';
import { SourceVetter } from './source-guard.ts';
import { tarFiles } from './tar.ts';
import { parseTscOutput } from './tsc-output.ts';

/** Where the template lives in the image, and the port its Vite dev server listens on. */
export const WORKDIR = '/app';
export const APP_PORT = 5173;
/** Tag on every sandbox this bot starts: start-up clean-up lists by it. */
export const TAG_BOT = 'vibe-bot';
export const TAG_APP = 'vibe-app';
/** When the sandbox was made (epoch ms): a young one may belong to another process's build in progress. */
export const TAG_BORN = 'vibe-born';

export interface ModalSettings {
  /** Modal app the sandboxes belong to (VIBE_MODAL_APP). */
  appName: string;
  /** Published image with the template and its node_modules (npm run modal:image). */
  imageName: string;
  /** Hard lifetime of a sandbox (whole seconds on Modal). */
  timeoutMs: number;
  /** Modal stops a sandbox with no exec, tunnel traffic or stdin for this long. */
  idleTimeoutMs: number;
  cpu: number;
  memoryMiB: number;
  /** Longest wait for a new sandbox to serve, throttled create included (also the client's maxThrottleWaitSecs). */
  bootTimeoutMs: number;
  /**
   * The gateway's public origin, when it has one: viewers' error reports go there (the page is on
   * the tunnel's origin, which is not the bot's). Without it reports stay in the sandbox.
   */
  reportOrigin?: string;
}

const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000)) * 1000;

/** What a user reads when Modal cannot give the app a sandbox in time. */
export const NO_ROOM =
  'Modal has no room for another sandbox right now. Nothing was changed; try again in a few minutes.';
/** Every exec has a deadline: a hung tar or tsc must not hold a build forever. */
const WRITE_TIMEOUT_MS = 60_000;
const CHECK_TIMEOUT_MS = 120_000;
/** The type check's output read at most (an honest app's errors are a few KB; the repair shows the first ones). */
const CHECK_OUTPUT_BYTES = 2 << 20;

/**
 * Each app in its own Modal Sandbox (gVisor), served over Modal's https tunnel. The sandbox is
 * disposable: files are pushed in from the store, so a new one can replace a dead one at once.
 */
export class ModalSandboxProvider implements SandboxProvider {
  private app?: Promise<App>;
  private image?: Promise<Image>;
  private readonly sandboxes = new Map<string, { sb: Sandbox; appId: string; files?: FileMap }>();
  private readonly vetter: SourceVetter;
  /** Modal's idleTimeoutMs stops idle sandboxes, and it sees the tunnel traffic the bot never does. */
  readonly idlesItself = true;

  constructor(
    private readonly deps: { client: ModalClient; settings: ModalSettings; templateDir: string; logger: Logger },
  ) {
    this.vetter = new SourceVetter(libraryNames(deps.templateDir));
  }

  async boot(appId: string, files?: FileMap, labels: Record<string, string> = {}): Promise<SandboxHandle> {
    const { client, settings } = this.deps;
    const [app, image] = await Promise.all([this.modalApp(), this.templateImage()]);
    // The image is looked up (or built, once) before the clock starts: the wait bounded here is Modal's.
    const deadline = Date.now() + settings.bootTimeoutMs;
    const left = () => Math.max(1000, deadline - Date.now());
    const creating = client.sandboxes.create(app, image, {
      command: ['node', 'node_modules/vite/bin/vite.js', '--configLoader', 'runner'],
      workdir: WORKDIR,
      // Only what Vite needs: no secret of the bot's ever enters a sandbox. Vite listens on every
      // interface inside the sandbox, because Modal's tunnel reaches the container's own address.
      env: {
        VIBE_HOST: '0.0.0.0',
        VIBE_PORT: String(APP_PORT),
        VIBE_BASE: '/',
        ...(settings.reportOrigin ? { VIBE_ERROR_URL: `${settings.reportOrigin}/apps/${appId}/__vibe/errors` } : {}),
        // Shared state lives on the gateway, never in the sandbox (src/shared-state/).
        ...(settings.reportOrigin ? { VIBE_SHARED_URL: `${settings.reportOrigin}/apps/${appId}/__vibe/shared` } : {}),
      },
      encryptedPorts: [APP_PORT],
      readinessProbe: Probe.withTcp(APP_PORT),
      timeoutMs: seconds(settings.timeoutMs),
      idleTimeoutMs: seconds(settings.idleTimeoutMs),
      cpu: settings.cpu,
      memoryMiB: settings.memoryMiB,
      // No egress: an allow-list with no CIDRs and no domains. (blockNetwork cannot be combined
      // with open ports on Modal, and the tunnel does go through the sandbox's network.)
      outboundCidrAllowlist: [],
      tags: { ...labels, [TAG_BOT]: settings.appName, [TAG_APP]: appId, [TAG_BORN]: String(Date.now()) },
    });
    let sb: Sandbox;
    try {
      sb = await withDeadline(creating, left(), 'creating the sandbox');
    } catch (err) {
      // A create that answers after the deadline must not leave a sandbox nothing tracks.
      creating.then((late) => late.terminate()).catch(() => undefined);
      if (isResourceExhausted(err) || err instanceof DeadlineError) throw new UserError(NO_ROOM);
      throw err;
    }
    this.sandboxes.set(sb.sandboxId, { sb, appId });
    try {
      // Create answers before the container runs: nothing can be written until it serves
      // (Vite serves the template baked into the image meanwhile).
      await sb.waitUntilReady(left()).catch((err: unknown) => {
        throw err instanceof TimeoutError || isDeadlineExceeded(err) ? new DeadlineError('starting the sandbox') : err;
      });
      const refused = files ? await this.write(sb.sandboxId, files) : [];
      if (refused.length > 0)
        throw new Error(
          `refusing to boot ${appId}: ${refused.map((e) => `${e.file}:${e.line} ${e.message}`).join('; ')}`,
        );
      return { id: sb.sandboxId, url: await tunnelUrl(sb, left()) };
    } catch (err) {
      await this.stop(sb.sandboxId).catch(() => undefined); // never leave a sandbox nothing tracks
      if (err instanceof DeadlineError) throw new UserError(NO_ROOM);
      throw err;
    }
  }

  /** One tar through one exec: extract beside src/, move in what changed, delete what is gone. */
  async write(id: string, files: FileMap): Promise<CheckError[]> {
    assertValidFiles(files);
    const refused = await this.vetter.vet(files);
    if (refused.length > 0) return refused;
    const entry = this.get(id);
    const proc = await entry.sb.exec(['sh', '-c', SYNC_SCRIPT], {
      mode: 'binary',
      workdir: WORKDIR,
      timeoutMs: WRITE_TIMEOUT_MS,
    });
    const stderr = stderrTail(proc);
    const sent = await sendStdin(proc, tarFiles(files));
    const [code, err] = await Promise.all([proc.wait(), stderr]);
    // A failed write with exit 0 is a close that came after tar had read the whole archive.
    if (code !== 0) {
      const why = err.trim().slice(0, 500);
      throw new Error(
        `writing files into sandbox ${id} failed (exit ${code})${why ? `: ${why}` : sent ? `: ${errorText(sent)}` : ''}`,
      );
    }
    entry.files = { ...files };
    return [];
  }

  async check(id: string): Promise<CheckError[]> {
    const entry = this.get(id);
    const proc = await entry.sb.exec(['node', 'node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], {
      workdir: WORKDIR,
      timeoutMs: CHECK_TIMEOUT_MS,
    });
    const { out, err, code } = await execOutput(proc, CHECK_OUTPUT_BYTES, `the type check in sandbox ${id}`);
    // tsc exits 0 (clean) or 1/2 (errors reported); anything else (a timeout, a kill) is no verdict.
    if (code > 2) throw new Error(`the type check in sandbox ${id} did not finish (exit ${code})`);
    return combineCheck(entry.files ?? {}, parseTscOutput(out + err, WORKDIR));
  }

  async exportBuild(id: string): Promise<Map<string, Uint8Array>> {
    const entry = this.get(id);
    const proc = await entry.sb.exec(exportBuildArgv('node'), { workdir: WORKDIR, timeoutMs: EXPORT_TIMEOUT_MS });
    const { out, err, code } = await execOutput(proc, MAX_BUILD_ANSWER_BYTES, `the export build in sandbox ${id}`);
    if (code !== 0)
      throw new Error(`the export build failed in sandbox ${id} (exit ${code}): ${err.trim().slice(-300)}`);
    return readBuiltFiles(out);
  }

  /** Asked inside the sandbox, on its own loopback: no tunnel, no TLS, nothing public involved. */
  async lightBuild(id: string, source: string): Promise<Map<string, Uint8Array>> {
    const entry = this.get(id);
    const proc = await entry.sb.exec(lightBuildArgv('node', APP_PORT, '/', source), {
      workdir: WORKDIR,
      timeoutMs: LIGHT_BUILD_TIMEOUT_MS,
    });
    const { out, err, code } = await execOutput(proc, MAX_BUILD_ANSWER_BYTES, `the light build in sandbox ${id}`);
    if (code === 3) throw new BuildFailedError(`the light build failed: ${err.trim().slice(-2000)}`);
    if (code !== 0) throw new Error(`no light build from sandbox ${id} (exit ${code}): ${err.trim().slice(-500)}`);
    return readBuiltFiles(out);
  }

  async status(id: string): Promise<SandboxStatus> {
    const entry = this.sandboxes.get(id);
    if (!entry) return 'stopped';
    try {
      return (await entry.sb.poll()) === null ? 'running' : 'stopped';
    } catch (err) {
      if (isGone(err)) return 'stopped'; // Modal already forgot it
      throw err;
    }
  }

  async stop(id: string): Promise<void> {
    const entry = this.sandboxes.get(id);
    if (!entry) return;
    this.sandboxes.delete(id);
    await entry.sb.terminate().catch((err: unknown) => {
      if (!isGone(err)) throw err;
    });
    this.deps.logger.info({ sandboxId: id, appId: entry.appId }, 'modal sandbox terminated');
  }

  async stopAll(): Promise<void> {
    // Sandboxes outlive the bot on purpose (a restart re-attaches them); shutting down only lets go.
    for (const { sb } of this.sandboxes.values()) sb.detach();
    this.sandboxes.clear();
    this.vetter.close();
  }

  async attach(appId: string, sandboxId: string): Promise<SandboxHandle | undefined> {
    try {
      const sb = await this.deps.client.sandboxes.fromId(sandboxId);
      if ((await sb.poll()) !== null) return undefined;
      const tags = await sb.getTags();
      if (tags[TAG_APP] !== appId) return undefined;
      this.sandboxes.set(sandboxId, { sb, appId });
      // The files are the store's newest version; the runtime writes them again on the next change.
      return { id: sandboxId, url: await tunnelUrl(sb, 60_000) };
    } catch (err) {
      // fromId does not check the id: the first call says whether the sandbox is still there
      // (NOT_FOUND once Modal forgot it; PERMISSION_DENIED or INVALID_ARGUMENT for an id of
      // another workspace or token, or a malformed one). All mean "gone": the caller boots anew.
      if (isGone(err) || err instanceof InvalidError) {
        this.deps.logger.info({ appId, sandboxId, err: errorText(err) }, 'the stored sandbox is gone');
        return undefined;
      }
      throw err;
    }
  }

  async stopOrphans(
    owns: (appId: string, sandboxId: string) => Promise<boolean>,
    opts: { graceMs?: number } = {},
  ): Promise<string[]> {
    const stopped: string[] = [];
    const app = await this.modalApp();
    for await (const sb of this.deps.client.sandboxes.list({
      appId: app.appId,
      tags: { [TAG_BOT]: this.deps.settings.appName },
    })) {
      const tags = await sb.getTags();
      const appId = tags[TAG_APP] ?? '';
      // Younger than the grace: maybe another process's build that has no app in the store yet.
      if (opts.graceMs && Date.now() - Number(tags[TAG_BORN] ?? 0) < opts.graceMs) continue;
      if (await owns(appId, sb.sandboxId)) continue;
      try {
        await sb.terminate();
        stopped.push(sb.sandboxId);
      } catch (err) {
        if (!isGone(err)) throw err; // it ended between the list and now
      }
    }
    if (stopped.length) this.deps.logger.info({ stopped }, 'terminated sandboxes no app owns');
    return stopped;
  }

  private get(id: string) {
    const entry = this.sandboxes.get(id);
    if (!entry) throw new Error(`no running sandbox ${id}`);
    return entry;
  }

  private modalApp(): Promise<App> {
    this.app ??= this.deps.client.apps.fromName(this.deps.settings.appName, { createIfMissing: true });
    this.app.catch(() => (this.app = undefined));
    return this.app;
  }

  /** The published template image, looked up by name; built once (and published) if missing. */
  private templateImage(): Promise<Image> {
    const { client, settings, logger, templateDir } = this.deps;
    this.image ??= publishedTemplateImage(client, () => this.modalApp(), settings.imageName, templateDir, logger);
    this.image.catch(() => (this.image = undefined));
    return this.image;
  }
}

async function tunnelUrl(sb: Sandbox, timeoutMs: number): Promise<string> {
  const tunnel = (await sb.tunnels(timeoutMs))[APP_PORT];
  if (!tunnel) throw new Error(`sandbox ${sb.sandboxId} has no tunnel for port ${APP_PORT}`);
  return tunnel.url.replace(/\/?$/, '/');
}
