import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import pino from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildVibeApp, type VibeApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { FileMap } from '../../src/core/ports/index.ts';
import { lunchPollSample } from '../../src/llm/samples/lunchpoll.ts';
import { loadTemplate } from '../../src/llm/system-prompt.ts';
import { freePort } from '../../src/sandbox/free-port.ts';
import { openAppStore } from '../../src/store/open.ts';
import { TEMPLATE_DIR } from '../../src/template.ts';
import { CHROMIUM, collectPageErrors, launchChromium } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';
import { ci, needs, reachable } from '../support/needs.ts';
import { RecordingConversation } from '../support/recording-conversation.ts';
import { ScriptedModel } from '../support/scripted-model.ts';

// Issue 22 as people meet it: the team lunch poll (the offline sample) made by the real bot, in
// a real sandbox, checked in the bot's own browser, served to Chromium pages from the gateway;
// the pages share one poll, live, through restarts, and across two bot instances on Redis.

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisUp = ci || (await reachable(new URL(REDIS_URL).hostname, Number(new URL(REDIS_URL).port || 6379)));

/** Waits until the poll's page is connected (the sample shows a status line until it is). */
async function openPoll(context: BrowserContext, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await page.goto(url);
  await page.getByRole('heading', { name: 'Team Lunch Poll' }).waitFor({ timeout: 60_000 });
  await connected(page);
  return { page, errors };
}

async function connected(page: Page): Promise<void> {
  await page.getByRole('status').waitFor({ state: 'detached', timeout: 30_000 });
}

const count = (page: Page, place: string) => page.getByTestId(`count-${place}`).textContent();

/**
 * Clicks `place` on `from` and returns the ms until `to` shows the new count: both clocks are
 * the same machine's (performance.timeOrigin + now), read inside the pages.
 */
async function voteAndTime(from: Page, to: Page, place: string): Promise<number> {
  const before = await count(to, place);
  await to.evaluate(`(() => {
    const el = document.querySelector('[data-testid="count-${place}"]');
    window.__changedAt = undefined;
    new MutationObserver(() => {
      if (window.__changedAt === undefined && el.textContent !== ${JSON.stringify(before)})
        window.__changedAt = performance.timeOrigin + performance.now();
    }).observe(el, { childList: true, subtree: true, characterData: true });
  })()`);
  const clickedAt = await from.evaluate<number>(`(() => {
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent.includes(${JSON.stringify(place)}));
    const t = performance.timeOrigin + performance.now();
    button.click();
    return t;
  })()`);
  const changedAt = await eventually(() => to.evaluate<number | undefined>('window.__changedAt'), 10_000, 5);
  return changedAt - clickedAt;
}

describe.runIf(needs('chromium', 'bwrap'))('a shared lunch poll, end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vibe-shared-e2e-'));
  const model = new ScriptedModel();
  const logs: { msg?: string; pages?: number; items?: number }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const conv = new RecordingConversation('shell:general');
  const ctx = { conv, actor: { id: 'shell:ana' }, channelId: conv.channelId };
  let poll: FileMap;
  let port: number;
  let app: VibeApp;
  let browser: Browser;
  let contexts: BrowserContext[] = [];
  let first: { appId: string; url: string; thread: string };

  const start = async () =>
    buildVibeApp(
      loadConfig({
        VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
        VIBE_PORT: String(port),
        VIBE_APP_DOMAIN: 'localhost',
        VIBE_BROWSER: CHROMIUM,
        VIBE_DATA_DIR: join(dir, 'data'),
        VIBE_APPS_DIR: join(dir, 'apps'),
      }),
      logger,
      { model },
    );
  const create = async (prompt: string) => {
    model.script({ files: poll, title: 'Team Lunch Poll', summary: lunchPollSample.summary });
    const from = conv.events.length;
    await app.bot.command(ctx, prompt);
    const card = conv.events.slice(from).find((e) => e.card?.meta?.state === 'live')?.card;
    expect(card, JSON.stringify(conv.cards().at(-1))).toBeDefined();
    const thread = conv.events.slice(from).find((e) => e.type === 'thread')!.thread!;
    return { appId: card!.meta!.appId!, url: card!.meta!.url!, thread };
  };
  const context = async () => {
    const c = await browser.newContext();
    contexts.push(c);
    return c;
  };

  beforeAll(async () => {
    poll = { ...(await loadTemplate(TEMPLATE_DIR)).templateFiles, ...lunchPollSample.files };
    port = await freePort();
    app = await start();
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "two browsers on one app see each other's votes live; a reload keeps them; another app's poll is its own",
    { timeout: 300_000 },
    async () => {
      first = await create('a team lunch poll');
      expect(first.url).toBe(`http://${first.appId}.localhost:${port}/`);
      const a = await openPoll(await context(), first.url);
      const b = await openPoll(await context(), first.url);

      const aToB = await voteAndTime(a.page, b.page, 'Pizza');
      expect(await count(b.page, 'Pizza')).toBe('1 vote');
      const bToA = await voteAndTime(b.page, a.page, 'Sushi');
      expect(await count(a.page, 'Sushi')).toBe('1 vote');
      console.log(`shared state, Chromium page -> other page: ${aToB.toFixed(1)} ms and ${bToA.toFixed(1)} ms`);

      // A name shows beside a vote, for everyone.
      await b.page.getByLabel('Your name').fill('Bea');
      await b.page.getByRole('button', { name: 'Save' }).click();
      await a.page.getByText('Bea').waitFor({ timeout: 10_000 });

      await a.page.reload();
      await connected(a.page);
      expect(await count(a.page, 'Pizza')).toBe('1 vote');
      expect(await count(a.page, 'Sushi')).toBe('1 vote');
      await a.page.getByText('you').waitFor(); // the same viewer after a reload

      const second = await create('a dinner poll');
      const c = await openPoll(await context(), second.url);
      expect(await count(c.page, 'Pizza')).toBe('0 votes');
      expect(await count(c.page, 'Sushi')).toBe('0 votes');
      await c.page.getByRole('button', { name: /Tacos/ }).click();
      await eventually(async () => (await app.shared.exportData(second.appId))?.lists.votes?.length === 1);
      expect(await count(a.page, 'Tacos')).toBe('0 votes');
      for (const p of [a, b, c]) expect(p.errors).toEqual([]);

      // Deleting the second app takes its data, and its open page is told.
      await app.bot.command(ctx, `delete ${second.appId} confirm`);
      await c.page.getByRole('status').waitFor({ timeout: 10_000 });
      expect(await app.shared.exportData(second.appId)).toBeUndefined();
    },
  );

  it(
    "the browser check before a version's link reads a scratch copy; what it writes never reaches the real data",
    { timeout: 300_000 },
    async () => {
      // Pages open on v1 would reload into v2 by themselves: closed first.
      for (const c of contexts.splice(0)) await c.close();
      const writesOnOpen: FileMap = {
        ...poll,
        'src/App.tsx': `import { useEffect } from 'react';
import { useSharedList } from '@vibe/shared';

export default function App() {
  const votes = useSharedList<unknown>('votes');
  useEffect(() => {
    if (votes.status === 'live') votes.put('opened', { place: 'Opened', name: null });
  }, [votes.status]);
  return (
    <main className="p-8">
      <h1>Team Lunch Poll</h1>
      <p>{votes.items.length} votes</p>
    </main>
  );
}
`,
      };
      model.script({ files: writesOnOpen });
      const before = await app.shared.exportData(first.appId);
      logs.length = 0;
      await app.bot.threadMessage({ ...ctx, threadId: first.thread }, 'write a vote when the page opens');
      expect(conv.cards().at(-1)?.meta).toMatchObject({ state: 'live', version: 2 });
      const scratch = logs.filter((l) => l.msg === 'shared state: the browser check used a scratch copy');
      expect(scratch.length).toBeGreaterThan(0);
      // The copy held the two real votes, and the check's page added its own to it...
      expect(scratch.at(-1)).toMatchObject({ pages: 1, items: 3 });
      // ...which the real data never got.
      expect(await app.shared.exportData(first.appId)).toEqual(before);
      expect(before?.lists.votes).toHaveLength(2);
    },
  );

  it(
    'the votes survive a bot restart; a page left open is offline meanwhile, keeps its vote, and sends it after',
    { timeout: 300_000 },
    async () => {
      model.script({ files: poll }); // back to the poll (undo would do the same)
      await app.bot.threadMessage({ ...ctx, threadId: first.thread }, 'back to the poll');
      await app.bot.command(ctx, `export ${first.appId}`);
      const zip = unzipSync(conv.cards().findLast((c) => c.file)!.file!.bytes);
      const entry = (suffix: string) => Object.keys(zip).find((p) => p.endsWith(suffix));
      const exported = JSON.parse(strFromU8(zip[entry('/dist/data.json')!]!)) as { lists: { votes: unknown[] } };
      expect(exported.lists.votes).toHaveLength(2);
      const js = Object.keys(zip)
        .filter((p) => /\/dist\/assets\/.*\.js$/.test(p))
        .map((p) => strFromU8(zip[p]!))
        .join('\n');
      expect(js).toContain('data.json'); // the read-only module, not the live one
      expect(js).not.toContain('__vibe/shared');

      const a = await openPoll(await context(), first.url);
      await app.close();
      await a.page.getByRole('status').waitFor({ timeout: 30_000 });
      await a.page.getByRole('button', { name: /Thai/ }).click(); // while the bot is down
      expect(await count(a.page, 'Thai')).toBe('1 vote');
      app = await start();
      await connected(a.page);
      await eventually(async () => (await app.shared.exportData(first.appId))?.lists.votes?.length === 3, 30_000);
      const b = await openPoll(await context(), first.url);
      expect(await count(b.page, 'Thai')).toBe('1 vote'); // the vote made while the bot was down
      expect(await count(b.page, 'Sushi')).toBe('1 vote');
      expect(await count(b.page, 'Pizza')).toBe('1 vote');
      expect(
        [...a.errors, ...b.errors].filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load/.test(e)),
      ).toEqual([]);
    },
  );
});

describe.runIf(needs('chromium', 'bwrap') && redisUp)('two bot instances on one Redis', () => {
  // A database of its own on the shared Redis, emptied at the end.
  const url = `${REDIS_URL.replace(/\/\d*$/, '')}/11`;
  const dir = mkdtempSync(join(tmpdir(), 'vibe-shared-redis-'));
  const apps: VibeApp[] = [];
  let browser: Browser;

  afterAll(async () => {
    await browser?.close();
    for (const a of apps) await a.close();
    const store = await openAppStore(url);
    await store.destroyNamespace();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a page on each instance sees the other's votes", { timeout: 300_000 }, async () => {
    const model = new ScriptedModel();
    for (const i of [1, 2])
      apps.push(
        await buildVibeApp(
          loadConfig({
            VIBE_STORE_URL: url,
            VIBE_PORT: '0',
            VIBE_APP_DOMAIN: 'localhost',
            VIBE_BROWSER: 'off',
            VIBE_DATA_DIR: join(dir, `data${i}`),
            VIBE_APPS_DIR: join(dir, `apps${i}`),
          }),
          pino({ level: 'silent' }),
          { model },
        ),
      );
    browser = await launchChromium();
    const conv = new RecordingConversation('shell:general');
    model.script({ files: { ...(await loadTemplate(TEMPLATE_DIR)).templateFiles, ...lunchPollSample.files } });
    await apps[0]!.bot.command({ conv, actor: { id: 'shell:ana' }, channelId: conv.channelId }, 'a lunch poll');
    const appId = conv.cards().find((c) => c.meta?.state === 'live')!.meta!.appId!;
    const link = (a: VibeApp) => `http://${appId}.localhost:${new URL(a.publicUrl).port}/`;
    const one = await openPoll(await browser.newContext(), link(apps[0]!));
    const two = await openPoll(await browser.newContext(), link(apps[1]!));

    const oneToTwo = await voteAndTime(one.page, two.page, 'Pizza');
    const twoToOne = await voteAndTime(two.page, one.page, 'Tacos');
    console.log(
      `shared state across two bot instances on Redis: ${oneToTwo.toFixed(1)} ms and ${twoToOne.toFixed(1)} ms`,
    );
    expect(await count(one.page, 'Tacos')).toBe('1 vote');
    expect(await count(two.page, 'Pizza')).toBe('1 vote');
    expect([...one.errors, ...two.errors]).toEqual([]);
  });
});
