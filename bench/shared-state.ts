// Shared state (`@vibe/shared`): how long a change made on one page takes to show on the other
// pages of the same app, on loopback. Two Chromium pages of the offline lunch poll (a vote
// clicked on one, the count changing on the other, both read with the pages' own clocks); then
// 2 and 50 pages as Node clients running the template's real client module over WebSockets
// through the real gateway (in this process, so the 50 share its CPU with the server); then,
// when Redis is up, 2 clients on two bot instances on one Redis. Prints medians and p99s.
import '../tests/support/localhost-dns.ts'; // <id>.localhost resolves to loopback, as in a browser
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Page } from 'playwright-core';
import type { SharedClient } from '../sandbox-template/vibe-shared/client.ts';
import { buildVibeApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { OfflineSampleModel } from '../src/llm/offline.ts';
import { loadTemplate } from '../src/llm/system-prompt.ts';
import { openAppStore } from '../src/store/open.ts';
import { TEMPLATE_DIR } from '../src/template.ts';
import { launchChromium } from '../tests/support/browser.ts';
import { eventually } from '../tests/support/eventually.ts';
import { reachable } from '../tests/support/needs.ts';
import { RecordingConversation } from '../tests/support/recording-conversation.ts';
import { live, pageClient, sharedStack, storeApp } from '../tests/support/shared-kit.ts';

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;
const summary = (xs: number[]) => `median ${pct(xs, 0.5).toFixed(1)} ms, p99 ${pct(xs, 0.99).toFixed(1)} ms`;
/** Writes per page stay within a page's allowance (60 at once), so nothing is refused. */
const CHANGES_PER_PAGE = 30;

export async function measureSharedState(): Promise<string[]> {
  return [
    await chromiumPages(),
    ...(await nodeClients()),
    ...((await reachable('127.0.0.1', 6379)) ? [await acrossRedis()] : []),
  ];
}

/** The lunch poll in two Chromium pages: click a place on one, time until the other's count changes. */
async function chromiumPages(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vibe-bench-shared-'));
  const { templateFiles } = await loadTemplate(TEMPLATE_DIR);
  const app = await buildVibeApp(
    loadConfig({
      VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
      VIBE_APPS_DIR: join(dir, 'apps'),
      VIBE_PORT: '0',
      VIBE_BROWSER: 'off',
      VIBE_WARM_SANDBOXES: '0',
    }),
    pino({ level: 'warn' }),
    { model: new OfflineSampleModel({ delayMs: 0, baseFiles: templateFiles }) },
  );
  const browser = await launchChromium();
  try {
    const conv = new RecordingConversation('bench:c');
    await app.bot.command({ conv, actor: { id: 'bench' }, channelId: 'bench:c' }, 'a team lunch poll');
    const url = conv.cards().find((c) => c.meta?.state === 'live')?.meta?.url;
    if (!url) throw new Error(`the poll was not made: ${JSON.stringify(conv.cards().at(-1))}`);
    const pages: Page[] = [];
    for (let i = 0; i < 2; i++) {
      const page = await (await browser.newContext()).newPage();
      await page.goto(url);
      await page.getByRole('heading', { name: 'Team Lunch Poll' }).waitFor({ timeout: 60_000 });
      await page.getByRole('status').waitFor({ state: 'detached', timeout: 30_000 });
      pages.push(page);
    }
    const samples: number[] = [];
    const places = ['Pizza', 'Sushi', 'Tacos'];
    for (let i = 0; i < 2 * CHANGES_PER_PAGE; i++) {
      const [from, to] = i % 2 === 0 ? [pages[0]!, pages[1]!] : [pages[1]!, pages[0]!];
      samples.push(await timeVote(from, to, places[Math.floor(i / 2) % places.length]!));
    }
    return `2 Chromium pages (lunch poll, light view through the gateway; ${samples.length} votes): ${summary(samples)}`;
  } finally {
    await browser.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One vote clicked on `from`; ms until `to`'s total changes, both read with the pages' clocks. */
async function timeVote(from: Page, to: Page, place: string): Promise<number> {
  await to.evaluate(`(() => {
    const el = document.querySelector('main');
    const before = el.textContent;
    window.__changedAt = undefined;
    const watch = new MutationObserver(() => {
      if (el.textContent === before) return;
      window.__changedAt = performance.timeOrigin + performance.now();
      watch.disconnect();
    });
    watch.observe(el, { childList: true, subtree: true, characterData: true });
  })()`);
  const clickedAt = await from.evaluate<number>(`(() => {
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent.includes(${JSON.stringify(place)}));
    const t = performance.timeOrigin + performance.now();
    button.click();
    return t;
  })()`);
  const changedAt = await eventually(() => to.evaluate<number | undefined>('window.__changedAt'), 10_000, 2);
  return changedAt - clickedAt;
}

/**
 * `changes` changes on one app, each a shared value one of `clients` sets (in turn), timed
 * until each other client sees it.
 */
async function timeChanges(clients: SharedClient[], changes: number): Promise<number[]> {
  const samples: number[] = [];
  for (let n = 0; n < changes; n++) {
    const writer = clients[n % clients.length]!;
    const others = clients.filter((c) => c !== writer);
    const t0 = performance.now();
    const seen = others.map(
      (c) =>
        new Promise<number>((resolve) => {
          const check = () => {
            if ((c.getState('tick') as { n?: number } | undefined)?.n !== n) return;
            off();
            resolve(performance.now() - t0);
          };
          const off = c.subscribe(check);
        }),
    );
    writer.setState('tick', { n });
    samples.push(...(await Promise.all(seen)));
  }
  return samples;
}

async function nodeClients(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vibe-bench-shared-'));
  const store = await openAppStore(`sqlite://${join(dir, 'vibe.sqlite')}`);
  const stack = await sharedStack(store);
  const lines: string[] = [];
  try {
    for (const [n, appId] of [
      [2, 'benchtwo'],
      [50, 'benchfifty'],
    ] as const) {
      await storeApp(store, appId);
      // Ten viewers per loopback address: the gateway allows one client 20 long-lived requests.
      const clients = Array.from(
        { length: n },
        (_, i) => pageClient(stack.url(appId), `viewer${i}x`, undefined, `127.0.0.${2 + Math.floor(i / 10)}`).client,
      );
      try {
        await live(...clients);
        // Two pages take turns; fifty write once each (each change is timed at the 49 others).
        const samples = await timeChanges(clients, n === 2 ? CHANGES_PER_PAGE : n);
        lines.push(
          `${n} pages as Node clients (the template's client module over ws, via the gateway; ${samples.length} change->page samples): ${summary(samples)}`,
        );
      } finally {
        for (const c of clients) c.stop();
      }
    }
  } finally {
    await stack.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

/** Two bot instances on one Redis (each its own store connection, gateway and server), a client on each. */
async function acrossRedis(): Promise<string> {
  const namespace = `bench-shared-${Date.now().toString(36)}`;
  const stores = [
    await openAppStore('redis://127.0.0.1:6379', { namespace }),
    await openAppStore('redis://127.0.0.1:6379', { namespace }),
  ];
  const stacks = [await sharedStack(stores[0]!), await sharedStack(stores[1]!)];
  try {
    await storeApp(stores[0]!, 'benchredis');
    const clients = stacks.map((s, i) => pageClient(s.url('benchredis'), `viewer${i}r`).client);
    try {
      await live(...clients);
      const samples = await timeChanges(clients, 2 * CHANGES_PER_PAGE);
      return `2 Node clients on two bot instances sharing one Redis (pub/sub; ${samples.length} changes): ${summary(samples)}`;
    } finally {
      for (const c of clients) c.stop();
    }
  } finally {
    for (const s of stacks) await s.close();
    await stores[0]!.destroyNamespace();
    for (const s of stores) await s.close();
  }
}
