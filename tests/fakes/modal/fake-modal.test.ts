import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import path from 'node:path';
import { ClientError, Status } from 'nice-grpc';
import { ModalClient, NotFoundError, Probe, type App, type Image, type Sandbox } from 'modal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needs } from '../../support/needs.ts';
import { startFakeModal, type FakeModal } from './server.ts';

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
    const pid = fake.sandboxes.get(short.sandboxId)!.pid;
    expect(pidAlive(pid)).toBe(true);
    expect(await short.wait()).toBe(124); // GENERIC_STATUS_TIMEOUT
    expect(pidAlive(pid)).toBe(false);

    const victim = await create();
    const victimPid = fake.sandboxes.get(victim.sandboxId)!.pid;
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
