import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, ServerError, Status, type CallContext } from 'nice-grpc';
import { CallLog, type RecordedCall } from './call-log.ts';
import { CommandRouter } from './command-router.ts';
import { ControlPlane } from './control-plane.ts';
import type { FakeImage } from './fake-image.ts';
import type { FakeNetworkAccess, FakeSandbox, FakeSandboxStatus } from './fake-sandbox.ts';
import { FaultQueue, type GrpcStatusName } from './faults.ts';
import { implementService } from './grpc-service.ts';
import { ImageBuilder } from './image-builder.ts';
import { loadModalServiceDefinitions } from './service-definitions.ts';
import { createSelfSignedCert } from './tls-cert.ts';

/**
 * A fake Modal for the real `modal@0.11.1` SDK: the `ModalClient` control plane (plaintext gRPC
 * on loopback: set MODAL_SERVER_URL to `url`) and the task command router the SDK dials for
 * exec. Sandboxes are local processes under bwrap (see fake-sandbox.ts).
 */

export type { FakeImage } from './fake-image.ts';
export type { RecordedCall } from './call-log.ts';
export type { FakeNetworkAccess, FakeSandboxStatus } from './fake-sandbox.ts';

export interface FakeModalOptions {
  /**
   * Host directory an image runs from; copied per sandbox (node_modules symlinked). Given, images
   * are only recorded (their commands never run). Default: images are really built
   * (image-builder.ts) and run from their built workdir (/app), or an empty folder without RUN.
   */
  imageDir?: (image: FakeImage) => string;
  tokenId?: string;
  tokenSecret?: string;
  /** What EnvironmentGetOrCreate reports. Default `2025.06`. */
  imageBuilderVersion?: string;
  /**
   * How long after SandboxCreateV2 answers the sandbox's container starts (it is `scheduling`
   * until then: execs fail with FAILED_PRECONDITION). Default 300.
   */
  schedulingDelayMs?: number;
  /**
   * How long a finished sandbox stays known; after that every RPC about it answers NOT_FOUND and
   * it leaves `sandboxes`. Default 60 000.
   */
  forgetAfterMs?: number;
}

export interface FakeSandboxView {
  id: string;
  /** Host pid of the sandbox's command (of its agent when it has no command). */
  pid: number;
  tags: Record<string, string>;
  env: Record<string, string>;
  command: string[];
  workdir: string;
  /** `scheduling` from create until its container runs, then `running` until it ends. */
  status: FakeSandboxStatus;
  /** Host folder mounted at `workdir`. */
  rootDir: string;
  /** `https://127.0.0.1:<port>` per container port. */
  tunnelUrls: Record<number, string>;
  appId: string;
  imageId: string;
  /** The network policy it was created with. Recorded only: no sandbox here has any egress. */
  networkAccess: FakeNetworkAccess;
  /**
   * The container's address in its network namespace (`10.88.0.2`); tunnels and the TCP probe
   * connect there, so a server must listen on it or on 0.0.0.0, not on 127.0.0.1 only.
   */
  address: string;
  /** Output of the sandbox's command so far. */
  stdout(): string;
  stderr(): string;
}

export interface FakeModal {
  /** For MODAL_SERVER_URL: `http://127.0.0.1:<port>`. */
  url: string;
  tokenId: string;
  tokenSecret: string;
  /** The tunnel certificate (self-signed, its own CA): PEM, and a file for NODE_EXTRA_CA_CERTS. */
  tlsCert: string;
  tlsCertPath: string;
  /** Every RPC received, both services, in order. */
  calls: RecordedCall[];
  log: CallLog;
  /** A snapshot, taken when read. */
  readonly sandboxes: ReadonlyMap<string, FakeSandboxView>;
  images: Map<string, FakeImage>;
  /** What builds the images (their layers, `runSteps`); undefined with an `imageDir` option. */
  imageBuilder?: ImageBuilder;
  /** The next `times` calls to `method` (proto name, e.g. `SandboxCreateV2`) fail with `status`. */
  failNext(method: string, status: Status | GrpcStatusName, message?: string, times?: number): void;
  /**
   * The next `times` (default 1) calls to `method` are throttled: RESOURCE_EXHAUSTED with a
   * `modal.client.RPCRetryPolicy` of `retryAfterSecs` in the `grpc-status-details-bin` trailer.
   * The SDK retries unary calls after that long, until its `maxThrottleWaitSecs` would be passed.
   */
  throttleNext(method: string, retryAfterSecs: number, times?: number, message?: string): void;
  /** Drops the faults and throttles still queued. */
  clearFaults(): void;
  /** Resolves once the sandbox's container runs (it is `scheduling` before); rejects if it ended instead. */
  waitRunning(sandboxId: string, timeoutMs?: number): Promise<FakeSandboxView>;
  /**
   * Replaces the token (new random values unless given): calls with the old one then fail with
   * UNAUTHENTICATED. Returns the new one; `tokenId` and `tokenSecret` follow.
   */
  rotateToken(next?: { tokenId: string; tokenSecret: string }): { tokenId: string; tokenSecret: string };
  /** The sandbox dies at once, every process in it, and reports a timeout (exit 124 from `wait()`). */
  kill(sandboxId: string): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeModal(opts: FakeModalOptions = {}): Promise<FakeModal> {
  const defs = loadModalServiceDefinitions();
  const workDir = mkdtempSync(path.join(tmpdir(), 'fake-modal-'));
  const emptyImageDir = path.join(workDir, 'empty-image');
  mkdirSync(emptyImageDir);
  const cert = createSelfSignedCert(workDir);
  let tokenId = opts.tokenId ?? 'ak-fake-token-id';
  let tokenSecret = opts.tokenSecret ?? 'as-fake-token-secret';
  const log = new CallLog();
  const faults = new FaultQueue();

  let routerPort = 0;
  const imageBuilder = opts.imageDir ? undefined : new ImageBuilder(path.join(workDir, 'images'));
  const cp = new ControlPlane({
    imageDir: opts.imageDir ?? ((image) => imageBuilder?.imageDir(image) ?? emptyImageDir),
    imageBuilder,
    workDir,
    cert,
    // https because the SDK insists; it dials it in plaintext when MODAL_SERVER_URL is loopback.
    routerUrl: () => `https://127.0.0.1:${routerPort}`,
    imageBuilderVersion: opts.imageBuilderVersion ?? '2025.06',
    schedulingDelayMs: opts.schedulingDelayMs ?? 300,
    forgetAfterMs: opts.forgetAfterMs ?? 60_000,
  });
  const router = new CommandRouter(cp);

  // The SDK sends up to 100 MiB to the control plane (its own channel limit), so that is taken.
  const controlServer = createServer({ 'grpc.max_receive_message_length': 100 * 1024 * 1024 });
  controlServer.add(
    defs.modalClient as never,
    implementService(defs.modalClient, cp.handlers(), {
      service: 'ModalClient',
      log,
      faults,
      authenticate: (_method: string, ctx: CallContext) => {
        if (
          ctx.metadata.get('x-modal-token-id') !== tokenId ||
          ctx.metadata.get('x-modal-token-secret') !== tokenSecret
        ) {
          throw new ServerError(Status.UNAUTHENTICATED, 'Invalid token id or secret');
        }
      },
    }) as never,
  );
  // gRPC's default receive limit, as the command router keeps: a bigger single message (a 5 MiB
  // stdin write) is refused with RESOURCE_EXHAUSTED before any handler sees it.
  const routerServer = createServer({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  routerServer.add(
    defs.taskCommandRouter as never,
    implementService(defs.taskCommandRouter, router.handlers(), {
      service: 'TaskCommandRouter',
      log,
      faults,
      authenticate: (_method: string, ctx: CallContext, request: unknown) => router.authenticate(ctx, request),
    }) as never,
  );
  const controlPort = await controlServer.listen('127.0.0.1:0');
  routerPort = await routerServer.listen('127.0.0.1:0');

  const view = (sb: FakeSandbox): FakeSandboxView => ({
    id: sb.id,
    pid: sb.pid,
    tags: sb.tags,
    env: sb.spec.env,
    command: sb.spec.command,
    workdir: sb.spec.workdir,
    status: sb.status,
    rootDir: path.join(sb.dir, 'root'),
    tunnelUrls: Object.fromEntries([...sb.tunnels.entries()].map(([p, t]) => [p, `https://${t.host}:${t.port}`])),
    appId: sb.spec.appId,
    imageId: sb.spec.imageId,
    networkAccess: sb.spec.networkAccess,
    address: sb.address,
    stdout: () => sb.stdout.text(),
    stderr: () => sb.stderr.text(),
  });
  let closed = false;
  return {
    url: `http://127.0.0.1:${controlPort}`,
    get tokenId() {
      return tokenId;
    },
    get tokenSecret() {
      return tokenSecret;
    },
    tlsCert: cert.cert,
    tlsCertPath: cert.certPath,
    calls: log.calls,
    log,
    // A fresh snapshot on each access: `status`, `pid` and `tags` are current.
    get sandboxes() {
      return new Map([...cp.sandboxes.entries()].map(([id, sb]) => [id, view(sb)]));
    },
    images: cp.images,
    imageBuilder,
    failNext: (method, status, message, times) => faults.failNext(method, status, message, times),
    throttleNext: (method, retryAfterSecs, times, message) =>
      faults.throttleNext(method, retryAfterSecs, times, message),
    clearFaults: () => faults.clear(),
    waitRunning: async (sandboxId, timeoutMs = 10_000) => {
      const sb = cp.sandboxes.get(sandboxId);
      if (!sb) throw new Error(`no sandbox ${sandboxId}`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([sb.leftScheduling, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      if (!sb.running)
        throw new Error(`sandbox ${sandboxId} is ${sb.status}: ${sb.result?.exception ?? 'not started'}`);
      return view(sb);
    },
    rotateToken: (next) => {
      tokenId = next?.tokenId ?? `ak-${randomUUID()}`;
      tokenSecret = next?.tokenSecret ?? `as-${randomUUID()}`;
      return { tokenId, tokenSecret };
    },
    kill: async (sandboxId) => {
      const sb = cp.sandboxes.get(sandboxId);
      if (!sb) throw new Error(`no sandbox ${sandboxId}`);
      await sb.stop('killed');
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await imageBuilder?.close();
      await cp.closeAll();
      controlServer.forceShutdown();
      routerServer.forceShutdown();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
