import { unzipSync } from 'fflate';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { ModalClient } from 'modal';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildVibeApp, type VibeApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { UNSTABLE_LINK } from '../../src/core/chat/cards.ts';
import { loadTemplate } from '../../src/llm/system-prompt.ts';
import { NO_ROOM, ModalSandboxProvider } from '../../src/sandbox/modal.ts';
import { buildTemplateImage } from '../../src/sandbox/modal-image.ts';
import { freePort } from '../../src/sandbox/free-port.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { startFakeModal, type FakeModal } from '../fakes/modal/server.ts';
import { eventually } from '../support/eventually.ts';
import { needs } from '../support/needs.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';

// The Modal provider against a fake as strict as the real service where the provider used to
// go wrong (issue 11): open ports with blockNetwork refused, create answering before the
// container runs, forgotten sandboxes answering NOT_FOUND, 4 MiB gRPC messages, a non-loopback
// container address, throttling by retry policy, and an image whose Dockerfile really runs.

const logger = pino({ level: process.env.DEBUG_MODAL ? 'debug' : 'silent' });
let templateFiles: Record<string, string> = {};
const app = (title: string) => ({
  ...templateFiles,
  'src/App.tsx': `export default function App() {\n  return <h1>${title}</h1>;\n}\n`,
});

// Each test boots real (bubblewrap) sandboxes: a loaded CI machine needs more than the default minute.
describe.runIf(needs('bwrap'))('Modal, as the real service behaves', { timeout: 180_000 }, () => {
  let modal: FakeModal;
  let dir: string;
  let savedEnv: string | undefined;
  const apps: VibeApp[] = [];

  beforeAll(async () => {
    // No imageDir: the fake builds the bot's image by running its Dockerfile commands.
    modal = await startFakeModal({ forgetAfterMs: 1500 });
    savedEnv = process.env.MODAL_SERVER_URL;
    process.env.MODAL_SERVER_URL = modal.url;
    templateFiles = (await loadTemplate(TEMPLATE_DIR)).templateFiles;
    dir = mkdtempSync(join(tmpdir(), 'vibe-modal-service-'));
  }, 240_000);
  afterAll(async () => {
    if (savedEnv === undefined) delete process.env.MODAL_SERVER_URL;
    else process.env.MODAL_SERVER_URL = savedEnv;
    await modal?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    modal.clearFaults();
    for (const a of apps.splice(0)) await a.close();
    // Nothing a test started stays up for the next one.
    const client = sdk();
    for (const sb of modal.sandboxes.values())
      if (sb.status === 'running') await (await client.sandboxes.fromId(sb.id)).terminate();
    client.close();
  });

  const sdk = () => new ModalClient({ tokenId: modal.tokenId, tokenSecret: modal.tokenSecret });
  const running = () => [...modal.sandboxes.values()].filter((s) => s.status === 'running');

  async function start(store: string, model: ScriptedModel, env: Record<string, string> = {}): Promise<VibeApp> {
    const config = loadConfig({
      MODAL_TOKEN_ID: modal.tokenId,
      MODAL_TOKEN_SECRET: modal.tokenSecret,
      VIBE_STORE_URL: `sqlite://${join(dir, store)}`,
      VIBE_PORT: '0',
      VIBE_BROWSER_ARGS: '--ignore-certificate-errors', // the fake's tunnels have a test's own certificate
      ...env,
    });
    const vibe = await buildVibeApp(config, logger, { model, statusIntervalMs: 0 });
    apps.push(vibe);
    return vibe;
  }

  async function create(vibe: VibeApp, title: string) {
    const conv = new RecordingConversation();
    await vibe.bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'an app');
    const live = conv.cards().find((c) => c.meta?.state === 'live');
    expect(live, JSON.stringify(conv.cards().at(-1))).toBeDefined();
    expect(live!.title).toBe(title);
    return { conv, live: live!, appId: live!.meta!.appId! };
  }

  function provider(settings: Partial<ConstructorParameters<typeof ModalSandboxProvider>[0]['settings']> = {}) {
    const client = sdk();
    const p = new ModalSandboxProvider({
      client,
      templateDir: TEMPLATE_DIR,
      logger,
      settings: {
        appName: 'vibe-bot',
        imageName: 'vibe-sandbox-template',
        timeoutMs: 600_000,
        idleTimeoutMs: 600_000,
        cpu: 1,
        memoryMiB: 1024,
        bootTimeoutMs: 120_000,
        ...settings,
      },
    });
    return {
      p,
      client,
      close: async () => {
        await p.stopAll();
        client.close();
      },
    };
  }

  it(
    'builds the image by running its Dockerfile, the same id twice, and a sandbox uses its npm ci and Vite cache',
    { timeout: 240_000 },
    async () => {
      const client = sdk();
      try {
        const modalApp = await client.apps.fromName('vibe-bot', { createIfMissing: true });
        const first = await buildTemplateImage(client, modalApp, TEMPLATE_DIR);
        const second = await buildTemplateImage(client, modalApp, TEMPLATE_DIR);
        expect(second.imageId).toBe(first.imageId);
        await first.publish('vibe-sandbox-template');
      } finally {
        client.close();
      }
      const { p, close } = provider();
      try {
        const handle = await p.boot('imgtest1', app('Built image'));
        const sb = modal.sandboxes.get(handle.id)!;
        // Served by the image's own node_modules, and Vite found its pre-built dependency cache.
        expect(sb.stdout() + sb.stderr()).not.toMatch(/optimiz(ed|ing) dependencies|re-optimiz/i);
        const page = await fetchTunnel(handle.url);
        expect(page.status).toBe(200);
      } finally {
        await close();
      }
    },
  );

  it('opens its port with no egress (an empty allow-list; blockNetwork is refused with ports)', async () => {
    const { p, client, close } = provider();
    try {
      const handle = await p.boot('egress01');
      const created = modal.log.of('SandboxCreateV2').at(-1)!.request as { definition: Record<string, unknown> };
      expect(created.definition.networkAccess).toMatchObject({
        networkAccessType: 3,
        allowedCidrs: [],
        allowedDomains: [],
      });
      const sb = await client.sandboxes.fromId(handle.id);
      const proc = await sb.exec(
        ['node', '-e', "fetch('http://1.1.1.1/').then(() => process.exit(0), () => process.exit(3))"],
        { timeoutMs: 20_000 },
      );
      expect(await proc.wait()).toBe(3);
    } finally {
      await close();
    }
  });

  it('writes 40 files of 200 KB in slices, and a tar that exits early reports its own error', async () => {
    const { p, client, close } = provider();
    try {
      const handle = await p.boot('bigwrite1');
      // The most an app may hold: 40 files of up to 200 KB.
      const big: Record<string, string> = { ...app('Big') };
      const part = (n: number) =>
        Array.from({ length: 1600 }, (_, k) => `export const x${n}_${k} = '${'a'.repeat(96)}';\n`).join('');
      for (let i = 0; Object.keys(big).length < 40; i++) big[`src/data/part${i}.ts`] = part(i);
      expect(await p.write(handle.id, big)).toEqual([]);
      const sb = await client.sandboxes.fromId(handle.id);
      const wc = await sb.exec(['sh', '-c', 'cat src/data/*.ts | wc -c'], { timeoutMs: 20_000 });
      expect(Number((await wc.stdout.readText()).trim())).toBe(
        Object.entries(big)
          .filter(([k]) => k.startsWith('src/data/'))
          .reduce((n, [, v]) => n + Buffer.byteLength(v), 0),
      );
      // A staging folder tar cannot use: the write script fails at once, before reading stdin.
      const block = await sb.exec(
        ['sh', '-c', 'rm -rf .incoming && mkdir .incoming && mount -t tmpfs -o ro tmpfs .incoming'],
        {
          timeoutMs: 20_000,
        },
      );
      expect(await block.wait(), await block.stderr.readText()).toBe(0);
      const err = await p
        .write(handle.id, { ...big, 'src/App.tsx': 'export default () => null;\n' })
        .catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/exit [1-9].*(\.incoming|busy|Read-only)/s);
      expect((err as Error).message).not.toMatch(/FAILED_PRECONDITION|ABORTED/);
    } finally {
      await close();
    }
  });

  it('gives every exec a deadline', async () => {
    const { p, close } = provider();
    try {
      const handle = await p.boot('deadline1', app('Deadlines'));
      await p.check(handle.id);
      const starts = modal.log.of('TaskExecStart').slice(-2);
      expect(starts.map((c) => (c.request as { timeoutSecs?: number }).timeoutSecs)).toEqual([60, 120]);
    } finally {
      await close();
    }
  });

  it("reads no more of an exec's output than it takes: a type check printing megabytes fails clearly", async () => {
    const { p, close } = provider();
    try {
      // Four files of 7,800 type errors each: tsc prints about 2.6 MB, over the 2 MiB read.
      const noisy = Object.fromEntries(
        [0, 1, 2, 3].map((i) => [`src/Noisy${i}.ts`, '{ const n: number = ""; }\n'.repeat(7800)]),
      );
      const handle = await p.boot('noisy001', { ...app('Noisy'), ...noisy });
      await expect(p.check(handle.id)).rejects.toThrow(/output of the type check .* is over 2 MiB/);
    } finally {
      await close();
    }
  });

  it(
    'a stored sandbox Modal forgot is gone: attach says so, and the next change boots a new one',
    {
      timeout: 180_000,
    },
    async () => {
      const { p, client, close } = provider();
      try {
        expect(await p.attach('nosuch01', 'sb-000000000000000000000000')).toBeUndefined();
        const handle = await p.boot('forgot01');
        await (await client.sandboxes.fromId(handle.id)).terminate();
        await eventually(() => !modal.sandboxes.has(handle.id), 10_000);
        expect(await p.attach('forgot01', handle.id)).toBeUndefined();
      } finally {
        await close();
      }
      const vibe = await start(
        'forgot.sqlite',
        new ScriptedModel().script({ files: app('Kept'), title: 'Kept' }, { files: app('Changed') }),
      );
      const { conv, appId } = await create(vibe, 'Kept');
      const first = (await vibe.store.getApp(appId))!.sandboxId!;
      await vibe.close(); // the bot goes away; its sandbox is left running
      apps.splice(apps.indexOf(vibe), 1);
      await (await sdk().sandboxes.fromId(first)).terminate();
      await eventually(() => !modal.sandboxes.has(first), 10_000);
      const again = await start('forgot.sqlite', new ScriptedModel().script({ files: app('Changed') }));
      const thread = conv.events.find((e) => e.type === 'thread')!.thread!;
      await again.bot.threadMessage(
        { conv, actor: { id: 'u1' }, channelId: conv.channelId, threadId: thread },
        'change it',
      );
      expect(conv.cards().at(-1)?.meta).toMatchObject({ state: 'live', version: 2 });
      const second = (await again.store.getApp(appId))!.sandboxId!;
      expect(second).not.toBe(first);
      expect(modal.sandboxes.get(second)?.status).toBe('running');
    },
  );

  it(
    'a throttled create gives up at the boot timeout with "no room", nothing stored or running',
    { timeout: 60_000 },
    async () => {
      const vibe = await start('throttle.sqlite', new ScriptedModel().script({ files: app('Never'), title: 'Never' }), {
        VIBE_SANDBOX_BOOT_TIMEOUT: '3s',
      });
      const before = running().length;
      modal.throttleNext('SandboxCreateV2', 1, 1000);
      const conv = new RecordingConversation();
      const t0 = Date.now();
      await vibe.bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, 'an app');
      expect(Date.now() - t0).toBeLessThan(30_000);
      const final = conv.cards().at(-1)!;
      expect(final.meta?.state).toBe('failed');
      expect(final.text).toContain(NO_ROOM);
      expect((await vibe.store.appsInChannel(conv.channelId, 10)).items).toEqual([]);
      expect(running()).toHaveLength(before);
    },
  );

  it(
    "leaves idleness to Modal: an open tunnel keeps the app up past the bot's idle time; once Modal stops it the bot forgets it",
    { timeout: 150_000 },
    async () => {
      const vibe = await start('idle.sqlite', new ScriptedModel().script({ files: app('Watched'), title: 'Watched' }), {
        // Short, but longer than a loaded machine may take from the container's start to the
        // first write (the fake counts from the start, as Modal may).
        VIBE_IDLE_TIMEOUT: '10s',
        // A cold browser may take longer to start than this idle timeout allows between the type
        // check and the page load; the browser check has its own tests.
        VIBE_BROWSER: 'off',
      });
      const { live, appId } = await create(vibe, 'Watched');
      const sandboxId = (await vibe.store.getApp(appId))!.sandboxId!;
      // The posted link is the tunnel (the gateway is on loopback), and the card says it changes.
      expect(live.meta?.url).toBe(modal.sandboxes.get(sandboxId)!.tunnelUrls[5173] + '/');
      expect(live.text).toContain(UNSTABLE_LINK);
      const viewer = await openTunnel(live.meta!.url!);
      try {
        await new Promise((r) => setTimeout(r, 16_000)); // well past 10 s, with the sweeper running every 2.5 s
        expect(modal.sandboxes.get(sandboxId)?.status).toBe('running');
        expect(vibe.runtime.isRunning(appId)).toBe(true);
      } finally {
        viewer.destroy();
      }
      await eventually(() => modal.sandboxes.get(sandboxId)?.status !== 'running', 40_000, 200);
      await eventually(() => !vibe.runtime.isRunning(appId), 10_000, 200);
      // The runtime lets go of it first, then clears the store's pointer (after Modal's answer).
      await eventually(async () => (await vibe.store.getApp(appId))?.sandboxId === undefined, 20_000, 200);
    },
  );

  it(
    'publishes a version from inside its Modal sandbox, and exports it with a dist built there',
    { timeout: 180_000 },
    async () => {
      const vibe = await start(
        'export.sqlite',
        new ScriptedModel().script({ files: app('Exported'), title: 'Exported' }),
        {
          VIBE_BROWSER: 'off',
        },
      );
      const { conv, appId } = await create(vibe, 'Exported');
      // The build came out through an exec on the container's loopback; the gateway serves it
      // on the app's own origin from the store, with the sandbox gone.
      expect((await vibe.store.getApp(appId))?.publishedVersion).toBe(1);
      const served = `http://${appId}.localhost:${new URL(vibe.publicUrl).port}/`;
      await vibe.runtime.stop(appId);
      const page = await fetch(served);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('/__vibe/events');
      expect(running().filter((s) => Object.values(s.tags).includes(appId))).toEqual([]);
      await vibe.bot.command({ conv, actor: { id: 'u1' }, channelId: conv.channelId }, `export ${appId}`);
      const card = conv.events.filter((e) => e.type === 'reply').at(-1)?.card;
      expect(card?.text, JSON.stringify(card?.text)).toContain('and a build in `dist/`');
      const paths = Object.keys(unzipSync(card!.file!.bytes));
      expect(paths.some((p) => p.endsWith('/dist/index.html'))).toBe(true);
      expect(paths.some((p) => /\/dist\/assets\/index-[\w-]+\.js$/.test(p))).toBe(true);
      expect(paths.some((p) => p.endsWith('/src/App.tsx'))).toBe(true);
    },
  );

  it('behind a public VIBE_PUBLIC_URL posts the stable gateway link, which redirects to the current tunnel', async () => {
    const port = await freePort();
    const vibe = await start('public.sqlite', new ScriptedModel().script({ files: app('Public'), title: 'Public' }), {
      VIBE_PUBLIC_URL: 'https://vibe.example.com',
      VIBE_PORT: String(port),
    });
    const { live, appId } = await create(vibe, 'Public');
    expect(live.meta?.url).toBe(`https://vibe.example.com/apps/${appId}/`);
    expect(live.text).not.toContain(UNSTABLE_LINK);
    const res = await fetch(`http://127.0.0.1:${port}/apps/${appId}/dev/`, {
      headers: { host: 'vibe.example.com' },
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const sandbox = modal.sandboxes.get((await vibe.store.getApp(appId))!.sandboxId!)!;
    const tunnel = sandbox.tunnelUrls[5173];
    // Viewers' error reports leave the tunnel's origin for the public gateway.
    expect(sandbox.env.VIBE_ERROR_URL).toBe(`https://vibe.example.com/apps/${appId}/__vibe/errors`);
    expect(res.headers.get('location')).toBe(`${tunnel}/dev/`);
    // ...and the gateway takes them from that tunnel's origin only.
    const report = (origin?: string) =>
      fetch(`http://127.0.0.1:${port}/apps/${appId}/__vibe/errors`, {
        method: 'POST',
        headers: { host: 'vibe.example.com', 'content-type': 'text/plain', ...(origin ? { origin } : {}) },
        body: '{"message":"boom"}',
      }).then((r) => r.status);
    expect(await report(new URL(tunnel!).origin)).toBe(204);
    expect(await report('https://sb-other.modal.host')).toBe(403);
    expect(await report()).toBe(403);
  });
});

/** GET through a fake tunnel (self-signed certificate). */
function fetchTunnel(url: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const sock = tls.connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () =>
      sock.write(`GET / HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`),
    );
    let head = '';
    sock.on('data', (d: Buffer) => (head += d.toString('latin1')));
    sock.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0) }));
    sock.on('error', reject);
  });
}

/** A viewer's open connection to the tunnel (what a browser tab with HMR holds). */
function openTunnel(url: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const sock = tls.connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () =>
      resolve(sock),
    );
    sock.on('error', reject);
  });
}
