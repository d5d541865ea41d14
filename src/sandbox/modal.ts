import {
  NotFoundError,
  Probe,
  ResourceExhaustedError,
  type App,
  type Image,
  type ModalClient,
  type Sandbox,
} from 'modal';
import { UserError } from '../core/errors.ts';
import { assertValidFiles } from '../core/files.ts';
import type { CheckError, FileMap, Logger, SandboxHandle, SandboxProvider, SandboxStatus } from '../core/ports.ts';
import { buildTemplateImage } from './modal-image.ts';
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
}

const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000)) * 1000;

/**
 * Each app in its own Modal Sandbox (gVisor), served over Modal's https tunnel. The sandbox is
 * disposable: files are pushed in from the store, so a new one can replace a dead one at once.
 */
export class ModalSandboxProvider implements SandboxProvider {
  private app?: Promise<App>;
  private image?: Promise<Image>;
  private readonly sandboxes = new Map<string, { sb: Sandbox; appId: string; files?: FileMap }>();
  private readonly vetter: SourceVetter;

  constructor(
    private readonly deps: { client: ModalClient; settings: ModalSettings; templateDir: string; logger: Logger },
  ) {
    this.vetter = new SourceVetter(libraryNames(deps.templateDir));
  }

  async boot(appId: string, files?: FileMap, labels: Record<string, string> = {}): Promise<SandboxHandle> {
    const { client, settings } = this.deps;
    const [app, image] = await Promise.all([this.modalApp(), this.templateImage()]);
    let sb: Sandbox;
    try {
      sb = await client.sandboxes.create(app, image, {
        command: ['node', 'node_modules/vite/bin/vite.js', '--configLoader', 'runner'],
        workdir: WORKDIR,
        // Only what Vite needs: no secret of the bot's ever enters a sandbox.
        env: { VIBE_HOST: '0.0.0.0', VIBE_PORT: String(APP_PORT), VIBE_BASE: '/' },
        encryptedPorts: [APP_PORT],
        readinessProbe: Probe.withTcp(APP_PORT),
        timeoutMs: seconds(settings.timeoutMs),
        idleTimeoutMs: seconds(settings.idleTimeoutMs),
        cpu: settings.cpu,
        memoryMiB: settings.memoryMiB,
        // A dev server with its packages baked into the image needs no outbound network at all;
        // the tunnel, exec and file traffic go through Modal, not the sandbox's network.
        blockNetwork: true,
        tags: { ...labels, [TAG_BOT]: settings.appName, [TAG_APP]: appId },
      });
    } catch (err) {
      if (isResourceExhausted(err))
        throw new UserError(
          'Modal has no room for another sandbox right now. Nothing was changed; try again in a few minutes.',
        );
      throw err;
    }
    this.sandboxes.set(sb.sandboxId, { sb, appId });
    try {
      const refused = files ? await this.write(sb.sandboxId, files) : [];
      if (refused.length > 0)
        throw new Error(
          `refusing to boot ${appId}: ${refused.map((e) => `${e.file}:${e.line} ${e.message}`).join('; ')}`,
        );
      await sb.waitUntilReady(120_000);
      return { id: sb.sandboxId, url: await tunnelUrl(sb) };
    } catch (err) {
      await this.stop(sb.sandboxId).catch(() => undefined); // never leave a sandbox nothing tracks
      throw err;
    }
  }

  /** One tar through one exec: extract beside src/, move in what changed, delete what is gone. */
  async write(id: string, files: FileMap): Promise<CheckError[]> {
    assertValidFiles(files);
    const refused = await this.vetter.vet(files);
    if (refused.length > 0) return refused;
    const entry = this.get(id);
    const proc = await entry.sb.exec(['sh', '-c', SYNC_SCRIPT], { mode: 'binary', workdir: WORKDIR });
    const writer = proc.stdin.getWriter();
    await writer.write(new Uint8Array(tarFiles(files)));
    await writer.close();
    const [code, stderr] = await Promise.all([proc.wait(), proc.stderr.readBytes()]);
    if (code !== 0)
      throw new Error(
        `writing files into sandbox ${id} failed (exit ${code}): ${Buffer.from(stderr).toString('utf8').slice(0, 500)}`,
      );
    entry.files = { ...files };
    return [];
  }

  async check(id: string): Promise<CheckError[]> {
    const entry = this.get(id);
    const proc = await entry.sb.exec(['node', 'node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], {
      workdir: WORKDIR,
    });
    const [out, err] = await Promise.all([proc.stdout.readText(), proc.stderr.readText(), proc.wait()]);
    return combineCheck(entry.files ?? {}, parseTscOutput(out + err, WORKDIR));
  }

  async status(id: string): Promise<SandboxStatus> {
    const entry = this.sandboxes.get(id);
    if (!entry) return 'stopped';
    return (await entry.sb.poll()) === null ? 'running' : 'stopped';
  }

  async stop(id: string): Promise<void> {
    const entry = this.sandboxes.get(id);
    if (!entry) return;
    this.sandboxes.delete(id);
    await entry.sb.terminate();
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
      return { id: sandboxId, url: await tunnelUrl(sb) };
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async stopOrphans(owns: (appId: string, sandboxId: string) => Promise<boolean>): Promise<string[]> {
    const stopped: string[] = [];
    const app = await this.modalApp();
    for await (const sb of this.deps.client.sandboxes.list({
      appId: app.appId,
      tags: { [TAG_BOT]: this.deps.settings.appName },
    })) {
      const appId = (await sb.getTags())[TAG_APP] ?? '';
      if (await owns(appId, sb.sandboxId)) continue;
      await sb.terminate();
      stopped.push(sb.sandboxId);
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
    this.image ??= (async () => {
      const { client, settings, logger, templateDir } = this.deps;
      try {
        return await client.images.fromName(settings.imageName);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        logger.warn(
          { image: settings.imageName },
          'the sandbox image is missing: building it once (npm run modal:image does this ahead of time)',
        );
        const image = await buildTemplateImage(client, await this.modalApp(), templateDir);
        await image.publish(settings.imageName);
        return image;
      }
    })();
    this.image.catch(() => (this.image = undefined));
    return this.image;
  }
}

/** The SDK raises its own ResourceExhaustedError for some calls and a gRPC status for others. */
function isResourceExhausted(err: unknown): boolean {
  return err instanceof ResourceExhaustedError || (err as { code?: unknown }).code === GRPC_RESOURCE_EXHAUSTED;
}
const GRPC_RESOURCE_EXHAUSTED = 8;

async function tunnelUrl(sb: Sandbox): Promise<string> {
  const tunnel = (await sb.tunnels(60_000))[APP_PORT];
  if (!tunnel) throw new Error(`sandbox ${sb.sandboxId} has no tunnel for port ${APP_PORT}`);
  return tunnel.url.replace(/\/?$/, '/');
}

/** Makes src/ exactly the tar's files, touching only files that changed (so HMR stays precise). */
export const SYNC_SCRIPT = `set -e
rm -rf .incoming && mkdir -p .incoming && tar -x -C .incoming
cd .incoming && find src -type f > ../.manifest
find src -type f | while read -r f; do
  if ! cmp -s "$f" "../$f"; then mkdir -p "../$(dirname "$f")"; mv -f "$f" "../$f"; fi
done
cd .. && rm -rf .incoming
find src -type f | grep -vxF -f .manifest | while read -r f; do rm -f "$f"; done
find src -mindepth 1 -type d -empty -delete
rm -f .manifest`;
