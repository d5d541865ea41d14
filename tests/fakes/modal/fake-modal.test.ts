import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import path from 'node:path';
import { ClientError, Status } from 'nice-grpc';
import {
  ModalClient,
  NotFoundError,
  Probe,
  TimeoutError,
  type App,
  type Image,
  type ModalClientParams,
  type Sandbox,
} from 'modal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needs } from '../../support/needs.ts';
import { startFakeModal, type FakeModal, type FakeModalOptions } from './server.ts';

const TEMPLATE = path.resolve(import.meta.dirname, '../../../sandbox-template');

// A tiny HTTP server as the sandbox command: it answers with its env and cwd.
const SERVER_JS =
  "require('http').createServer((q,s)=>s.end(JSON.stringify({path:q.url,cwd:process.cwd(),secret:process.env.SECRET}))).listen(5173,'0.0.0.0')";

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

async function getUntilServed(url: string, ca: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await httpsGet(url, ca);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Opens Vite's HMR WebSocket through the tunnel by hand; resolves with the first text frame. */
function hmrHandshake(url: string, ca: string, path = '/'): Promise<{ statusLine: string; firstMessage: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: hostname, port: Number(port), ca }, () => {
      sock.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: vite-hmr\r\n\r\n`,
      );
    });
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const statusLine = buf.subarray(0, buf.indexOf('\r\n')).toString();
      const frame = buf.subarray(end + 4);
      if (!statusLine.includes('101')) {
        sock.destroy();
        resolve({ statusLine, firstMessage: '' });
        return;
      }
      if (frame.length < 2) return;
      const len = frame[1]! & 0x7f; // small unmasked server frame
      if (frame.length < 2 + len) return;
      sock.destroy();
      resolve({ statusLine, firstMessage: frame.subarray(2, 2 + len).toString() });
    });
    sock.on('error', reject);
    setTimeout(() => {
      sock.destroy();
      reject(new Error('no HMR handshake'));
    }, 10_000);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a promise rejected with (fails the test if it resolved). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (err: unknown) => err,
  );
}

function expectGrpcError(err: unknown, code: Status, details?: string | RegExp): void {
  expect(err).toBeInstanceOf(ClientError);
  expect(Status[(err as ClientError).code]).toBe(Status[code]);
  if (typeof details === 'string') expect((err as ClientError).details).toBe(details);
  else if (details) expect((err as ClientError).details).toMatch(details);
}

/** A client of `fake` (the SDK reads MODAL_SERVER_URL when a client is made), the variable kept as it was. */
function clientOf(fake: FakeModal, params: ModalClientParams = {}): ModalClient {
  const saved = process.env.MODAL_SERVER_URL;
  process.env.MODAL_SERVER_URL = fake.url;
  try {
    return new ModalClient({ tokenId: fake.tokenId, tokenSecret: fake.tokenSecret, ...params });
  } finally {
    if (saved === undefined) delete process.env.MODAL_SERVER_URL;
    else process.env.MODAL_SERVER_URL = saved;
  }
}

interface OwnFake {
  fake: FakeModal;
  modal: ModalClient;
  app: App;
  image: Image;
  /** Sandboxes to terminate at the end. */
  started: Sandbox[];
}

/**
 * Runs `body` against a fake of its own (for options the shared one does not have), with a
 * client, an app and an image on it; terminates and closes everything afterwards, even on failure.
 */
async function withOwnFake(
  opts: FakeModalOptions,
  clientParams: Omit<ModalClientParams, 'tokenId' | 'tokenSecret'>,
  body: (own: OwnFake) => Promise<void>,
): Promise<void> {
  const fake = await startFakeModal(opts);
  const started: Sandbox[] = [];
  let modal: ModalClient | undefined;
  try {
    modal = clientOf(fake, clientParams);
    const app = await modal.apps.fromName('own-fake', { createIfMissing: true });
    const image = modal.images.fromRegistry('node:20-slim');
    await image.build(app);
    await body({ fake, modal, app, image, started });
  } finally {
    for (const sb of started) await sb.terminate().catch(() => {});
    modal?.close();
    await fake.close();
  }
}

const pidAlive = (pid: number): boolean =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

describe.runIf(needs('bwrap'))('fake Modal control plane with the real modal SDK', () => {
  let fake: FakeModal;
  let modal: ModalClient;
  let app: App;
  let image: Image;
  const savedUrl = process.env.MODAL_SERVER_URL;
  const started: Sandbox[] = [];

  beforeAll(async () => {
    fake = await startFakeModal({ imageDir: () => TEMPLATE });
    process.env.MODAL_SERVER_URL = fake.url;
    modal = new ModalClient({ tokenId: fake.tokenId, tokenSecret: fake.tokenSecret });
    app = await modal.apps.fromName('vibe-test', { createIfMissing: true });
    image = modal.images.fromRegistry('node:20-slim').dockerfileCommands(['WORKDIR /app', 'RUN npm ci']);
    await image.build(app);
  });

  afterAll(async () => {
    for (const sb of started) await sb.terminate().catch(() => {});
    modal?.close();
    await fake?.close();
    if (savedUrl === undefined) delete process.env.MODAL_SERVER_URL;
    else process.env.MODAL_SERVER_URL = savedUrl;
  });

  async function create(params: Parameters<ModalClient['sandboxes']['create']>[2] = {}): Promise<Sandbox> {
    const sb = await modal.sandboxes.create(app, image, {
      command: ['node', '-e', SERVER_JS],
      workdir: '/app',
      encryptedPorts: [5173],
      timeoutMs: 60_000,
      idleTimeoutMs: 30_000,
      cpu: 1,
      memoryMiB: 1024,
      ...params,
    });
    started.push(sb);
    return sb;
  }

  it('builds, publishes and finds images by name; a missing name is NotFoundError', async () => {
    expect(image.imageId).toMatch(/^im-/);
    await image.publish('vibe-template');
    const found = await modal.images.fromName('vibe-template');
    expect(found.imageId).toBe(image.imageId);
    await expect(modal.images.fromName('no-such-image')).rejects.toBeInstanceOf(NotFoundError);
    const built = fake.images.get(image.imageId)!;
    expect(built.allCommands).toEqual(['FROM node:20-slim', 'WORKDIR /app', 'RUN npm ci']);
    expect(built.baseTag).toBe('node:20-slim');
    expect(fake.log.of('ImagePublish')[0]?.request).toMatchObject({ tag: 'vibe-template:latest' });
  });

  it('serves a port through an https tunnel, runs execs with stdin, lists, terminates', async () => {
    const sb = await create({
      env: { SECRET: 's3cret' },
      tags: { app: 'a1', kind: 'vibe' },
      readinessProbe: Probe.withTcp(5173),
    });
    await sb.waitUntilReady(10_000);
    const view = fake.sandboxes.get(sb.sandboxId)!;
    expect(view.status).toBe('running');

    // Env holds exactly what was given, plus PATH and HOME.
    const environ = readFileSync(`/proc/${view.pid}/environ`, 'utf8').split('\0').filter(Boolean).sort();
    expect(environ.map((kv) => kv.split('=')[0])).toEqual(['HOME', 'PATH', 'SECRET']);
    expect(environ).toContain('SECRET=s3cret');

    const tunnel = (await sb.tunnels())[5173]!;
    expect(tunnel.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await getUntilServed(`${tunnel.url}/hello`, fake.tlsCert);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ path: '/hello', cwd: '/app', secret: 's3cret' });

    const writer = await sb.exec(['sh', '-c', 'cat > /app/x.txt'], { stdout: 'pipe' });
    await writer.stdin.writeText('written through stdin\n');
    await writer.stdin.close();
    expect(await writer.wait()).toBe(0);
    const reader = await sb.exec(['cat', '/app/x.txt']);
    expect(await reader.stdout.readText()).toBe('written through stdin\n');
    expect(await reader.wait()).toBe(0);
    // The file lives in the sandbox's private copy, which the template does not see.
    expect(readFileSync(path.join(view.rootDir, 'x.txt'), 'utf8')).toBe('written through stdin\n');
    expect(existsSync(path.join(TEMPLATE, 'x.txt'))).toBe(false);

    const failing = await sb.exec(['sh', '-c', 'echo oops >&2; exit 3']);
    expect(await failing.stderr.readText()).toBe('oops\n');
    expect(await failing.wait()).toBe(3);

    expect(await sb.poll()).toBeNull(); // still running
    await sb.setTags({ app: 'a1', kind: 'vibe', extra: 'x' });
    expect(await sb.getTags()).toEqual({ app: 'a1', kind: 'vibe', extra: 'x' });
    const binary = await sb.exec(['sh', '-c', 'printf "\\001\\002"'], { mode: 'binary' });
    expect([...(await binary.stdout.readBytes())]).toEqual([1, 2]);

    const listed: string[] = [];
    for await (const s of modal.sandboxes.list({ appId: app.appId, tags: { app: 'a1' } })) listed.push(s.sandboxId);
    expect(listed).toEqual([sb.sandboxId]);
    const envWide: string[] = []; // without appId: the whole environment (the SDK warns it is deprecated)
    for await (const s of modal.sandboxes.list({ tags: { kind: 'vibe' } })) envWide.push(s.sandboxId);
    expect(envWide).toEqual([sb.sandboxId]);
    const none: string[] = [];
    for await (const s of modal.sandboxes.list({ appId: app.appId, tags: { app: 'other' } })) none.push(s.sandboxId);
    expect(none).toEqual([]);

    // A handle from the id alone reaches the same sandbox (SandboxGetTaskIdV2 + router access).
    const again = await modal.sandboxes.fromId(sb.sandboxId);
    const echo = await again.exec(['cat', '/app/x.txt']);
    expect(await echo.stdout.readText()).toBe('written through stdin\n');

    await sb.terminate();
    expect(pidAlive(view.pid)).toBe(false);
    expect(fake.sandboxes.get(sb.sandboxId)!.status).toBe('terminated');
    expect(await sb.wait()).toBe(137);
    expect(await sb.poll()).toBe(137);
    const after: string[] = [];
    for await (const s of modal.sandboxes.list({ appId: app.appId, tags: { app: 'a1' } })) after.push(s.sandboxId);
    expect(after).toEqual([]);
  });

  it('keeps sandboxes apart: two listen on the same port, each behind its own tunnel', async () => {
    const [a, b] = await Promise.all([create({ env: { SECRET: 'a' } }), create({ env: { SECRET: 'b' } })]);
    const [ta, tb] = await Promise.all([a.tunnels(), b.tunnels()]);
    const [ra, rb] = await Promise.all([
      getUntilServed(ta[5173]!.url, fake.tlsCert),
      getUntilServed(tb[5173]!.url, fake.tlsCert),
    ]);
    expect(JSON.parse(ra.body).secret).toBe('a');
    expect(JSON.parse(rb.body).secret).toBe('b');
    // A handle made from the id asks for the tunnels (SandboxGetTunnelsV2).
    const byId = await modal.sandboxes.fromId(a.sandboxId);
    expect((await byId.tunnels())[5173]!.url).toBe(ta[5173]!.url);
    await Promise.all([a.terminate(), b.terminate()]);
  });

  it('runs the real template with Vite; pages and the HMR WebSocket pass through the tunnel', async () => {
    const sb = await create({
      command: ['node', 'node_modules/vite/bin/vite.js', '--configLoader', 'runner'], // as ModalSandboxProvider runs it
      env: { VIBE_HOST: '0.0.0.0' },
      readinessProbe: Probe.withTcp(5173),
    });
    await sb.waitUntilReady(30_000);
    const url = (await sb.tunnels())[5173]!.url;
    // The template serves the light (built) view at / and the creator's dev server at /dev/.
    const light = await getUntilServed(url, fake.tlsCert);
    expect(light.status).toBe(200);
    const page = await getUntilServed(`${url}/dev/`, fake.tlsCert);
    expect(page.status).toBe(200);
    expect(page.body).toContain('/dev/@vite/client');
    const main = await httpsGet(`${url}/dev/src/main.tsx`, fake.tlsCert);
    expect(main.status).toBe(200);
    const hmr = await hmrHandshake(url, fake.tlsCert, '/dev/');
    expect(hmr.statusLine).toContain('101');
    expect(JSON.parse(hmr.firstMessage)).toMatchObject({ type: 'connected' });
    await sb.terminate();
  });

  it('ends a sandbox at its timeout, and on kill()', async () => {
    const short = await create({ timeoutMs: 2000, idleTimeoutMs: undefined });
    const { pid } = await fake.waitRunning(short.sandboxId); // create answers before it runs
    expect(pidAlive(pid)).toBe(true);
    expect(await short.wait()).toBe(124); // GENERIC_STATUS_TIMEOUT
    expect(pidAlive(pid)).toBe(false);

    const victim = await create();
    const { pid: victimPid } = await fake.waitRunning(victim.sandboxId);
    await fake.kill(victim.sandboxId);
    expect(pidAlive(victimPid)).toBe(false);
    expect(await victim.wait()).toBe(124);
  });

  it('fails SandboxCreateV2 on demand with the gRPC status as a nice-grpc ClientError', async () => {
    fake.failNext('SandboxCreateV2', 'RESOURCE_EXHAUSTED', 'no capacity');
    const err = await create().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(fake.log.of('SandboxCreateV2').at(-1)?.error).toBe('RESOURCE_EXHAUSTED');
    // The next create succeeds.
    const ok = await create();
    await ok.terminate();
  });

  it('answers RPCs it does not know with UNIMPLEMENTED, and records them', async () => {
    const err = await modal.secrets.fromName('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe(Status.UNIMPLEMENTED);
    expect(fake.log.of('SecretGetOrCreate')[0]?.error).toBe('UNIMPLEMENTED');
  });

  it('refuses open ports with blockNetwork, and records the network policy it was given', async () => {
    const err = await rejection(create({ blockNetwork: true, encryptedPorts: [5173] }));
    expectGrpcError(err, Status.INVALID_ARGUMENT, 'Cannot specify open ports when block_network is enabled');
    expect(fake.log.of('SandboxCreateV2').at(-1)?.error).toBe('INVALID_ARGUMENT');

    const [blocked, allowlist, domains, open] = await Promise.all([
      create({ blockNetwork: true, encryptedPorts: [] }),
      create({ outboundCidrAllowlist: [] }),
      create({ outboundDomainAllowlist: ['registry.npmjs.org'] }),
      create(),
    ]);
    expect(fake.sandboxes.get(blocked.sandboxId)!.networkAccess).toEqual({
      type: 'BLOCKED',
      allowedCidrs: [],
      allowedDomains: [],
    });
    expect(fake.sandboxes.get(allowlist.sandboxId)!.networkAccess).toEqual({
      type: 'ALLOWLIST',
      allowedCidrs: [],
      allowedDomains: [],
    });
    expect(fake.sandboxes.get(domains.sandboxId)!.networkAccess).toEqual({
      type: 'ALLOWLIST',
      allowedCidrs: [],
      allowedDomains: ['registry.npmjs.org'],
    });
    expect(fake.sandboxes.get(open.sandboxId)!.networkAccess.type).toBe('OPEN');

    // Whatever the policy, a fake sandbox has no way out.
    await fake.waitRunning(open.sandboxId);
    const dial = await open.exec([
      'node',
      '-e',
      "require('net').connect(443,'1.1.1.1').on('connect',()=>console.log('connected')).on('error',e=>console.log(e.code))",
    ]);
    expect((await dial.stdout.readText()).trim()).toBe('ENETUNREACH');
    await Promise.all([blocked, allowlist, domains, open].map((sb) => sb.terminate()));
  });

  it('answers create before the container runs: exec fails until then, waitUntilReady waits for it', async () => {
    const sb = await create({ readinessProbe: Probe.withTcp(5173) });
    const view = fake.sandboxes.get(sb.sandboxId)!;
    expect(view.status).toBe('scheduling');
    expect(view.pid).toBe(0);
    expect((await sb.tunnels())[5173]!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/); // tunnels come with the reply

    const early = await rejection(sb.exec(['true']));
    expectGrpcError(early, Status.FAILED_PRECONDITION, /^Task ta-\w+ is not running yet$/);
    expect(fake.log.of('TaskExecStart').at(-1)?.error).toBe('FAILED_PRECONDITION');
    expect(await sb.poll()).toBeNull(); // not finished

    await sb.waitUntilReady(10_000);
    expect(fake.sandboxes.get(sb.sandboxId)!.status).toBe('running');
    const ok = await sb.exec(['true']);
    expect(await ok.wait()).toBe(0);
    await sb.terminate();
  });

  it('terminates a sandbox still scheduling: nothing of it ever runs', async () => {
    const sb = await create();
    const { rootDir } = fake.sandboxes.get(sb.sandboxId)!;
    await sb.terminate();
    expect(await sb.wait()).toBe(137);
    await sleep(600); // past the scheduling delay
    const view = fake.sandboxes.get(sb.sandboxId)!;
    expect(view.status).toBe('terminated');
    expect(view.pid).toBe(0);
    expect(existsSync(rootDir)).toBe(false); // its files were never even copied
  });

  it('reports a container that fails to start as a failed result (INIT_FAILURE)', async () => {
    // bwrap cannot mount a workdir inside /proc: the container never starts.
    const sb = await create({ workdir: '/proc/app', readinessProbe: Probe.withTcp(5173) });
    const ready = await rejection(sb.waitUntilReady(10_000));
    expectGrpcError(ready, Status.FAILED_PRECONDITION, /has finished \(failed\)/);
    expect(await sb.wait()).toBe(1);
    const view = fake.sandboxes.get(sb.sandboxId)!;
    expect(view.status).toBe('failed');
    expect(view.stderr()).toContain("Can't mkdir /proc/app");
    await expect(fake.waitRunning(sb.sandboxId)).rejects.toThrow(/is failed/);
    expectGrpcError(await rejection(sb.exec(['true'])), Status.FAILED_PRECONDITION, /has finished/);
  });

  it('answers NOT_FOUND for an id it does not know, on every sandbox RPC', async () => {
    const ghost = await modal.sandboxes.fromId('sb-doesnotexist');
    expectGrpcError(await rejection(ghost.poll()), Status.NOT_FOUND);
    await rejection(ghost.wait());
    await rejection(ghost.getTags());
    await rejection(ghost.setTags({ a: 'b' }));
    await rejection(ghost.tunnels());
    await rejection(ghost.terminate());
    await rejection(ghost.exec(['true']));
    const ghostCalls = fake.calls.filter((c) => (c.request as { sandboxId?: string }).sandboxId === 'sb-doesnotexist');
    const methods = new Set(ghostCalls.map((c) => c.method));
    for (const m of [
      'SandboxWaitV2',
      'SandboxTagsGetV2',
      'SandboxTagsSetV2',
      'SandboxGetTunnelsV2',
      'SandboxTerminateV2',
      'SandboxGetTaskIdV2',
    ])
      expect(methods, m).toContain(m);
    expect(ghostCalls.filter((c) => c.error !== 'NOT_FOUND')).toEqual([]);
  });

  it('forgets a finished sandbox after forgetAfterMs: then it is NOT_FOUND like any unknown id', async () => {
    await withOwnFake(
      { forgetAfterMs: 300, schedulingDelayMs: 50 },
      {},
      async ({ fake, modal, app, image, started }) => {
        const sb = await modal.sandboxes.create(app, image, { command: ['sleep', '60'], workdir: '/app' });
        started.push(sb);
        await fake.waitRunning(sb.sandboxId);
        await sb.terminate();
        expect(await sb.wait()).toBe(137);
        expect(await sb.poll()).toBe(137); // still known for now
        const { rootDir } = fake.sandboxes.get(sb.sandboxId)!;

        await sleep(600);
        expect(fake.sandboxes.has(sb.sandboxId)).toBe(false);
        expect(existsSync(rootDir)).toBe(false);
        expectGrpcError(await rejection(sb.poll()), Status.NOT_FOUND);
        expectGrpcError(await rejection(sb.getTags()), Status.NOT_FOUND);
        // The handle still has its task and router token: the router no longer knows the task.
        expectGrpcError(await rejection(sb.exec(['true'])), Status.NOT_FOUND);
        const again = await modal.sandboxes.fromId(sb.sandboxId);
        await rejection(again.exec(['true']));
        expect(fake.log.of('SandboxGetTaskIdV2').at(-1)?.error).toBe('NOT_FOUND');
      },
    );
  });

  it('refuses the old token once rotated (UNAUTHENTICATED)', async () => {
    await withOwnFake({}, {}, async ({ fake, modal }) => {
      const next = fake.rotateToken();
      expect([fake.tokenId, fake.tokenSecret]).toEqual([next.tokenId, next.tokenSecret]);
      expectGrpcError(await rejection(modal.apps.fromName('other', { createIfMissing: true })), Status.UNAUTHENTICATED);
      const renewed = clientOf(fake); // with the new token
      try {
        expect((await renewed.apps.fromName('other', { createIfMissing: true })).appId).toMatch(/^ap-/);
      } finally {
        renewed.close();
      }
    });
  });

  it('refuses a single stdin message over 4 MiB (RESOURCE_EXHAUSTED); 1 MiB slices pass', async () => {
    const sb = await create({ readinessProbe: Probe.withTcp(5173) });
    await sb.waitUntilReady(10_000);
    const MiB = 1024 * 1024;
    const whole = await sb.exec(['wc', '-c']);
    const tooBig = await rejection(whole.stdin.writeBytes(new Uint8Array(5 * MiB)));
    expectGrpcError(tooBig, Status.RESOURCE_EXHAUSTED, /larger than max/);

    const sliced = await sb.exec(['wc', '-c']);
    for (let i = 0; i < 5; i++) await sliced.stdin.writeBytes(new Uint8Array(MiB).fill(i));
    await sliced.stdin.close();
    expect((await sliced.stdout.readText()).trim()).toBe(String(5 * MiB));
    expect(await sliced.wait()).toBe(0);
    await sb.terminate();
  });

  it('refuses stdin to an exec that has exited (FAILED_PRECONDITION)', async () => {
    const sb = await create({ readinessProbe: Probe.withTcp(5173) });
    await sb.waitUntilReady(10_000);
    const done = await sb.exec(['true']);
    expect(await done.wait()).toBe(0);
    const late = await rejection(done.stdin.writeText('too late\n'));
    expectGrpcError(late, Status.FAILED_PRECONDITION, /has already exited/);
    expect(fake.log.of('TaskExecStdinWrite').at(-1)?.error).toBe('FAILED_PRECONDITION');
    await sb.terminate();
  });

  it('gives the container its own address: a server on 127.0.0.1 only is neither ready nor reachable', async () => {
    const sb = await create({
      command: ['node', '-e', SERVER_JS.replace("'0.0.0.0'", "'127.0.0.1'")],
      readinessProbe: Probe.withTcp(5173),
    });
    const view = await fake.waitRunning(sb.sandboxId);
    expect(view.address).toBe('10.88.0.2');
    const notReady = await rejection(sb.waitUntilReady(1500));
    expect(notReady).toBeInstanceOf(TimeoutError);
    // It does listen, on loopback inside the sandbox...
    const inside = await sb.exec([
      'node',
      '-e',
      "require('http').get('http://127.0.0.1:5173/in',r=>{r.resume();console.log(r.statusCode)})",
    ]);
    expect((await inside.stdout.readText()).trim()).toBe('200');
    const addr = await sb.exec(['ip', '-4', '-o', 'addr', 'show', 'dev', 'lo']);
    expect(await addr.stdout.readText()).toContain('inet 10.88.0.2/32');
    // ...but its tunnel, like the probe, goes to the container's address.
    const tunnel = (await sb.tunnels())[5173]!;
    await expect(httpsGet(tunnel.url, fake.tlsCert)).rejects.toThrow();
    await sb.terminate();
  });

  it('throttles as Modal does: the SDK waits the retry-after it is told, then retries', async () => {
    fake.throttleNext('AppGetOrCreate', 0.4, 2);
    const before = fake.log.of('AppGetOrCreate').length;
    const t0 = Date.now();
    const again = await modal.apps.fromName('vibe-test');
    expect(again.appId).toBe(app.appId);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(750);
    const calls = fake.log.of('AppGetOrCreate').slice(before);
    expect(calls.map((c) => c.error)).toEqual(['RESOURCE_EXHAUSTED', 'RESOURCE_EXHAUSTED', undefined]);
    for (let i = 1; i < calls.length; i++) expect(calls[i]!.at - calls[i - 1]!.at).toBeGreaterThanOrEqual(380);
  });

  it('gives up with the RESOURCE_EXHAUSTED error once maxThrottleWaitSecs would be passed', async () => {
    await withOwnFake({}, { maxThrottleWaitSecs: 2 }, async ({ fake, modal }) => {
      fake.throttleNext('AppGetOrCreate', 0.5, 100, 'slow down');
      const t0 = Date.now();
      const err = await rejection(modal.apps.fromName('own-fake'));
      const elapsed = Date.now() - t0;
      expectGrpcError(err, Status.RESOURCE_EXHAUSTED, 'slow down');
      // Retried at 0.5 s intervals; at 1.5 s the next wait would reach 2 s, so it gives up.
      expect(elapsed).toBeGreaterThanOrEqual(1400);
      expect(elapsed).toBeLessThan(2100);
      expect(fake.log.of('AppGetOrCreate').filter((c) => c.error === 'RESOURCE_EXHAUSTED')).toHaveLength(4);
    });
  });

  it('kills an exec at its timeout; wait() reports 137 (SIGKILL), as the SDK maps a signal', async () => {
    const sb = await create({ readinessProbe: Probe.withTcp(5173) });
    await sb.waitUntilReady(10_000);
    // The shell's child too: the whole process group goes.
    const slow = await sb.exec(['sh', '-c', 'sleep 30; echo never'], {
      timeoutMs: 1000,
      stdout: 'ignore',
      stderr: 'ignore',
    });
    const t0 = Date.now();
    expect(await slow.wait()).toBe(137);
    expect(Date.now() - t0).toBeLessThan(3000);
    const check = await sb.exec(['sh', '-c', 'pgrep -x sleep || echo none']);
    expect((await check.stdout.readText()).trim()).toBe('none');
    await sb.terminate();
  });

  it('records the RPCs the SDK made', () => {
    const methods = new Set(fake.log.methods());
    for (const m of [
      'AuthTokenGet',
      'AppGetOrCreate',
      'EnvironmentGetOrCreate',
      'ImageGetOrCreate',
      'ImagePublish',
      'ImageGetByTag',
      'SandboxCreateV2',
      'SandboxGetTunnelsV2',
      'SandboxListV2',
      'SandboxTagsSetV2',
      'SandboxTagsGetV2',
      'SandboxWaitV2',
      'SandboxTerminateV2',
      'SandboxGetTaskIdV2',
      'SandboxGetCommandRouterAccess',
      'TaskExecStart',
      'TaskExecStdioRead',
      'TaskExecStdinWrite',
      'TaskExecWait',
      'SandboxWaitUntilReady',
    ])
      expect(methods, m).toContain(m);
  });
});
