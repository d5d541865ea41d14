import { mkdtempSync, rm } from 'node:fs';
import path from 'node:path';
import { ServerError, Status, type CallContext } from 'nice-grpc';
import { describeImage, type FakeImage } from './fake-image.ts';
import { FakeSandbox, type FakeNetworkAccess, type FakeSandboxSpec } from './fake-sandbox.ts';
import { fakeJwt, newAppId, newEnvironmentId, newImageId, newSandboxId, newTaskId } from './ids.ts';
import type { RpcHandler } from './grpc-service.ts';
import type { ImageBuilder } from './image-builder.ts';

export interface ControlPlaneDeps {
  /** Host directory an image runs from (copied per sandbox). */
  imageDir: (image: FakeImage) => string;
  /** Where sandbox folders go. */
  workDir: string;
  cert: { key: string; cert: string };
  /** `https://127.0.0.1:<port>` of the command router. */
  routerUrl: () => string;
  imageBuilderVersion: string;
  /** Runs images' Dockerfile commands; without it images are only recorded, built at once. */
  imageBuilder?: ImageBuilder;
  /** How long after SandboxCreateV2's reply a sandbox's container starts. */
  schedulingDelayMs: number;
  /** How long a finished sandbox stays known; then every RPC about it answers NOT_FOUND. */
  forgetAfterMs: number;
}

interface Req {
  [k: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** State and handlers of the `ModalClient` service: apps, images, sandboxes. */
export class ControlPlane {
  readonly apps = new Map<string, { appId: string; name: string; environmentName: string }>();
  readonly images = new Map<string, FakeImage>();
  /** `${environmentName}\0${name:tag}` -> image id. */
  readonly published = new Map<string, string>();
  readonly sandboxes = new Map<string, FakeSandbox>();
  /** Sandbox id -> router JWT and its task; kept when the sandbox is forgotten (the JWT stays valid). */
  readonly routerJwts = new Map<string, { jwt: string; taskId: string }>();
  readonly #forgetTimers = new Set<NodeJS.Timeout>();
  #closed = false;
  readonly #environments = new Map<string, string>();
  #lastCreatedAt = 0;

  constructor(private readonly deps: ControlPlaneDeps) {}

  sandboxByTask(taskId: string): FakeSandbox | undefined {
    return [...this.sandboxes.values()].find((s) => s.spec.taskId === taskId);
  }

  #sandbox(id: string): FakeSandbox {
    const sb = this.sandboxes.get(id);
    if (!sb) throw new ServerError(Status.NOT_FOUND, `Sandbox ${id} not found`);
    return sb;
  }

  #routerAccess(sb: FakeSandbox): { jwt: string; url: string } {
    let jwt = this.routerJwts.get(sb.id)?.jwt;
    if (!jwt) {
      jwt = fakeJwt({ sub: sb.spec.taskId, sandbox_id: sb.id, exp: Math.floor(Date.now() / 1000) + 3600 });
      this.routerJwts.set(sb.id, { jwt, taskId: sb.spec.taskId });
    }
    return { jwt, url: this.deps.routerUrl() };
  }

  /** Once finished and gone, a sandbox is dropped after `forgetAfterMs`, as Modal forgets it. */
  #forgetLater(sb: FakeSandbox): void {
    void sb.released.then(() => {
      if (this.#closed) return;
      const timer = setTimeout(() => {
        this.#forgetTimers.delete(timer);
        if (this.sandboxes.get(sb.id) !== sb) return;
        this.sandboxes.delete(sb.id);
        rm(sb.dir, { recursive: true, force: true }, () => {});
      }, this.deps.forgetAfterMs);
      timer.unref();
      this.#forgetTimers.add(timer);
    });
  }

  #tunnelData(sb: FakeSandbox): object[] {
    return [...sb.tunnels.entries()].map(([containerPort, t]) =>
      t.encrypted
        ? { host: t.host, port: t.port, containerPort }
        : { host: t.host, port: t.port, unencryptedHost: t.host, unencryptedPort: t.port, containerPort },
    );
  }

  #info(sb: FakeSandbox): object {
    return {
      id: sb.id,
      createdAt: sb.createdAt,
      appId: sb.spec.appId,
      imageId: sb.spec.imageId,
      name: sb.spec.name ?? '',
      tags: Object.entries(sb.tags).map(([tagName, tagValue]) => ({ tagName, tagValue })),
      timeoutSecs: sb.spec.timeoutSecs,
      idleTimeoutSecs: sb.spec.idleTimeoutSecs,
      taskInfo: { id: sb.spec.taskId, sandboxId: sb.id, startedAt: sb.createdAt, result: sb.result },
    };
  }

  async #createSandbox(req: Req): Promise<object> {
    const def = req.definition as Req | undefined;
    if (!def) throw new ServerError(Status.INVALID_ARGUMENT, 'definition is required');
    if (![...this.apps.values()].some((a) => a.appId === req.appId))
      throw new ServerError(Status.NOT_FOUND, `App ${req.appId} not found`);
    const image = this.images.get(def.imageId);
    if (!image) throw new ServerError(Status.NOT_FOUND, `Image ${def.imageId} not found`);
    const env: Record<string, string> = {};
    for (const source of (req.secretSources ?? []) as Req[]) {
      if (source.secretId) throw new ServerError(Status.UNIMPLEMENTED, 'fake Modal has no named secrets');
      Object.assign(env, source.env?.contents ?? {});
    }
    const ports = ((def.openPorts?.ports ?? []) as Req[]).map((p) => ({
      port: p.port as number,
      encrypted: !p.unencrypted,
    }));
    // NetworkAccessType: 1 OPEN, 2 BLOCKED, 3 ALLOWLIST (0, unset, taken as OPEN).
    const access = def.networkAccess as Req | undefined;
    const networkAccess: FakeNetworkAccess = {
      type: access?.networkAccessType === 2 ? 'BLOCKED' : access?.networkAccessType === 3 ? 'ALLOWLIST' : 'OPEN',
      allowedCidrs: [...((access?.allowedCidrs ?? []) as string[])],
      allowedDomains: [...((access?.allowedDomains ?? []) as string[])],
    };
    // The JS SDK does not check this; Modal does (the Python SDK's wording).
    if (networkAccess.type === 'BLOCKED' && ports.length > 0)
      throw new ServerError(Status.INVALID_ARGUMENT, 'Cannot specify open ports when block_network is enabled');
    const probe = def.readinessProbe as Req | undefined;
    const id = newSandboxId();
    const spec: FakeSandboxSpec = {
      id,
      taskId: newTaskId(),
      appId: req.appId,
      imageId: image.imageId,
      imageDir: this.deps.imageDir(image),
      command: def.entrypointArgs ?? [],
      env,
      workdir: def.workdir || image.workdir || '/app',
      timeoutSecs: def.timeoutSecs ?? 300,
      idleTimeoutSecs: def.idleTimeoutSecs || undefined,
      ports,
      tags: Object.fromEntries(((req.tags ?? []) as Req[]).map((t) => [t.tagName, t.tagValue])),
      readinessProbe: probe
        ? { tcpPort: probe.tcpPort, execArgv: probe.execCommand?.argv, intervalMs: probe.intervalMs }
        : undefined,
      networkAccess,
      definition: def,
      name: def.name || undefined,
    };
    // Distinct creation times: SandboxListV2 pages by `createdAt < beforeTimestamp`.
    const createdAt = Math.max(Date.now() / 1000, this.#lastCreatedAt + 0.001);
    this.#lastCreatedAt = createdAt;
    const dir = mkdtempSync(path.join(this.deps.workDir, 'sb-'));
    // Answers before the container runs, as Modal does: it starts after the scheduling delay.
    const sb = await FakeSandbox.create(spec, dir, createdAt, this.deps.cert, this.deps.schedulingDelayMs);
    this.sandboxes.set(id, sb);
    this.#forgetLater(sb);
    return {
      sandboxId: id,
      taskId: spec.taskId,
      tunnels: this.#tunnelData(sb),
      commandRouterAccess: this.#routerAccess(sb),
    };
  }

  handlers(): Record<string, RpcHandler> {
    return {
      AuthTokenGet: async () => ({ token: fakeJwt({ exp: Math.floor(Date.now() / 1000) + 3600 }) }),

      EnvironmentGetOrCreate: async (req: Req) => {
        const name = (req.deploymentName as string) || 'main';
        let id = this.#environments.get(name);
        if (!id) this.#environments.set(name, (id = newEnvironmentId()));
        return {
          environmentId: id,
          metadata: {
            name,
            settings: { imageBuilderVersion: this.deps.imageBuilderVersion, webhookSuffix: 'modal.run' },
          },
        };
      },

      AppGetOrCreate: async (req: Req) => {
        const key = `${req.environmentName}\0${req.appName}`;
        let app = this.apps.get(key);
        if (!app) {
          if (req.objectCreationType !== 1) throw new ServerError(Status.NOT_FOUND, `App '${req.appName}' not found`);
          app = { appId: newAppId(), name: req.appName, environmentName: req.environmentName };
          this.apps.set(key, app);
        }
        return { appId: app.appId };
      },

      ImageGetOrCreate: async (req: Req) => {
        const commands = (req.image?.dockerfileCommands ?? []) as string[];
        const baseImageId = ((req.image?.baseImages ?? []) as Req[])[0]?.imageId as string | undefined;
        const base = baseImageId ? this.images.get(baseImageId) : undefined;
        if (baseImageId && !base) throw new ServerError(Status.NOT_FOUND, `Image ${baseImageId} not found`);
        // Same layer on the same base: the same image, as Modal's build cache does (not a failed build).
        const builder = this.deps.imageBuilder;
        const existing = [...this.images.values()].find(
          (i) =>
            i.baseImageId === baseImageId &&
            JSON.stringify(i.dockerfileCommands) === JSON.stringify(commands) &&
            !builder?.failed(i.imageId),
        );
        const image =
          existing && !req.forceBuild
            ? existing
            : describeImage(
                newImageId(),
                { dockerfileCommands: commands, baseImageId, builderVersion: req.builderVersion, appId: req.appId },
                base,
              );
        this.images.set(image.imageId, image);
        if (!builder) return { imageId: image.imageId, result: { status: 1 } };
        // Building in the background (once per image, whoever asks): the SDK joins the stream.
        const result = builder.start(image);
        return result ? { imageId: image.imageId, result } : { imageId: image.imageId };
      },

      ImageJoinStreaming: (req: Req, ctx: CallContext) => {
        const builder = this.deps.imageBuilder;
        if (builder) return builder.join(req.imageId, req.lastEntryId ?? '', req.timeout ?? 0, ctx.signal);
        return (async function* () {
          yield { result: { status: 1 }, entryId: '1', eof: true, taskLogs: [], imageId: req.imageId };
        })();
      },

      ImageFromId: async (req: Req) => {
        if (!this.images.has(req.imageId)) throw new ServerError(Status.NOT_FOUND, `Image ${req.imageId} not found`);
        return { imageId: req.imageId };
      },

      ImagePublish: async (req: Req) => {
        if (!this.images.has(req.imageId)) throw new ServerError(Status.NOT_FOUND, `Image ${req.imageId} not found`);
        this.published.set(`${req.environmentName}\0${req.tag}`, req.imageId);
        return { imageId: req.imageId, revisionId: `rev-${this.published.size}` };
      },

      ImageGetByTag: async (req: Req) => {
        const imageId = this.published.get(`${req.environmentName}\0${req.tag}`);
        if (!imageId) throw new ServerError(Status.NOT_FOUND, `Image '${req.tag}' not found`);
        return { imageId };
      },

      SandboxCreateV2: (req: Req) => this.#createSandbox(req),

      SandboxGetTaskIdV2: async (req: Req) => {
        const sb = this.#sandbox(req.sandboxId);
        return sb.finished ? { taskResult: sb.result } : { taskId: sb.spec.taskId };
      },

      SandboxGetTunnelsV2: async (req: Req) => ({ tunnels: this.#tunnelData(this.#sandbox(req.sandboxId)) }),

      SandboxGetCommandRouterAccess: async (req: Req) => {
        const sb = this.#sandbox(req.sandboxId);
        if (sb.finished) throw new ServerError(Status.FAILED_PRECONDITION, `Sandbox ${sb.id} has finished`);
        return this.#routerAccess(sb);
      },

      SandboxTagsSetV2: async (req: Req) => {
        this.#sandbox(req.sandboxId).tags = Object.fromEntries(
          ((req.tags ?? []) as Req[]).map((t) => [t.tagName, t.tagValue]),
        );
        return {};
      },

      SandboxTagsGetV2: async (req: Req) => ({
        tags: Object.entries(this.#sandbox(req.sandboxId).tags).map(([tagName, tagValue]) => ({ tagName, tagValue })),
      }),

      SandboxListV2: async (req: Req) => {
        const wanted = (req.tags ?? []) as Req[];
        const sandboxes = [...this.sandboxes.values()]
          .filter((sb) => req.includeFinished || !sb.finished)
          .filter((sb) => !req.appId || sb.spec.appId === req.appId)
          .filter((sb) => !req.beforeTimestamp || sb.createdAt < req.beforeTimestamp)
          .filter((sb) => wanted.every((t) => sb.tags[t.tagName] === t.tagValue))
          .sort((a, b) => b.createdAt - a.createdAt)
          .map((sb) => this.#info(sb));
        return { sandboxes };
      },

      SandboxWaitV2: async (req: Req, ctx: CallContext) => {
        const sb = this.#sandbox(req.sandboxId);
        const result = await sb.waitFinished((req.timeout ?? 0) * 1000, ctx.signal);
        return { result, metadata: { appId: sb.spec.appId, result } };
      },

      SandboxTerminateV2: async (req: Req) => {
        const sb = this.#sandbox(req.sandboxId);
        if (sb.finished) return { existingResult: sb.result };
        await sb.stop('terminated');
        return {};
      },
    };
  }

  /** Stops every sandbox (fake shutdown). */
  async closeAll(): Promise<void> {
    this.#closed = true;
    for (const t of this.#forgetTimers) clearTimeout(t);
    this.#forgetTimers.clear();
    await Promise.all([...this.sandboxes.values()].map((sb) => sb.stop('terminated')));
  }
}
