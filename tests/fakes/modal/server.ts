import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, ServerError, Status, type CallContext } from 'nice-grpc';
import { CallLog, type RecordedCall } from './call-log.ts';
import { CommandRouter } from './command-router.ts';
import { ControlPlane } from './control-plane.ts';
import type { FakeImage } from './fake-image.ts';
import type { FakeSandbox, FakeSandboxStatus } from './fake-sandbox.ts';
import { FaultQueue, type GrpcStatusName } from './faults.ts';
import { implementService } from './grpc-service.ts';
import { loadModalServiceDefinitions } from './service-definitions.ts';
import { createSelfSignedCert } from './tls-cert.ts';

/**
 * A fake Modal for the real `modal@0.11.1` SDK: the `ModalClient` control plane (plaintext gRPC
 * on loopback: set MODAL_SERVER_URL to `url`) and the task command router the SDK dials for
 * exec. Sandboxes are local processes under bwrap (see fake-sandbox.ts).
 */

export type { FakeImage } from './fake-image.ts';
export type { RecordedCall } from './call-log.ts';
export type { FakeSandboxStatus } from './fake-sandbox.ts';

export interface FakeModalOptions {
  /** Host directory an image runs from; copied per sandbox (node_modules symlinked). Default: an empty folder. */
  imageDir?: (image: FakeImage) => string;
  tokenId?: string;
  tokenSecret?: string;
  /** What EnvironmentGetOrCreate reports. Default `2025.06`. */
  imageBuilderVersion?: string;
}

export interface FakeSandboxView {
  id: string;
  /** Host pid of the sandbox's command (of its agent when it has no command). */
  pid: number;
  tags: Record<string, string>;
  env: Record<string, string>;
  command: string[];
  workdir: string;
  status: FakeSandboxStatus;
  /** Host folder mounted at `workdir`. */
  rootDir: string;
  /** `https://127.0.0.1:<port>` per container port. */
  tunnelUrls: Record<number, string>;
  appId: string;
  imageId: string;
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
  /** The next `times` calls to `method` (proto name, e.g. `SandboxCreateV2`) fail with `status`. */
  failNext(method: string, status: Status | GrpcStatusName, message?: string, times?: number): void;
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
  const tokenId = opts.tokenId ?? 'ak-fake-token-id';
  const tokenSecret = opts.tokenSecret ?? 'as-fake-token-secret';
  const log = new CallLog();
  const faults = new FaultQueue();

  let routerPort = 0;
  const cp = new ControlPlane({
    imageDir: opts.imageDir ?? (() => emptyImageDir),
    workDir,
    cert,
    // https because the SDK insists; it dials it in plaintext when MODAL_SERVER_URL is loopback.
    routerUrl: () => `https://127.0.0.1:${routerPort}`,
    imageBuilderVersion: opts.imageBuilderVersion ?? '2025.06',
  });
  const router = new CommandRouter(cp);

  const controlServer = createServer();
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
  const routerServer = createServer();
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
    stdout: () => sb.stdout.text(),
    stderr: () => sb.stderr.text(),
  });
  let closed = false;
  return {
    url: `http://127.0.0.1:${controlPort}`,
    tokenId,
    tokenSecret,
    tlsCert: cert.cert,
    tlsCertPath: cert.certPath,
    calls: log.calls,
    log,
    // A fresh snapshot on each access: `status`, `pid` and `tags` are current.
    get sandboxes() {
      return new Map([...cp.sandboxes.entries()].map(([id, sb]) => [id, view(sb)]));
    },
    images: cp.images,
    failNext: (method, status, message, times) => faults.failNext(method, status, message, times),
    kill: async (sandboxId) => {
      const sb = cp.sandboxes.get(sandboxId);
      if (!sb) throw new Error(`no sandbox ${sandboxId}`);
      await sb.stop('killed');
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await cp.closeAll();
      controlServer.forceShutdown();
      routerServer.forceShutdown();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
