/// <reference lib="dom" />
// npm run bench: the bot's own overhead, measured with the local sandbox provider and a fake
// Claude that streams at a fixed token rate. Prints medians; asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import pino from 'pino';
import { buildVibeApp } from '../src/app.ts';
import type { LocalSandboxProvider } from '../src/sandbox/local.ts';
import { TEMPLATE_DIR } from '../src/template.ts';
import { loadConfig } from '../src/config.ts';
import type { ChatContext } from '../src/core/chat/context.ts';
import type { CodeModel, CodeTurn } from '../src/core/ports/index.ts';
import { createClaudeModel } from '../src/llm/create-claude.ts';
import { startFakeAnthropic } from '../tests/fakes/anthropic/server.ts';
import { launchChromium } from '../tests/support/browser.ts';
import { RecordingConversation } from '../tests/support/recording-conversation.ts';
import { measureFastView } from './fast-view.ts';
import { measureFloor } from './floor.ts';
import { WATCH_LABEL } from '../src/core/chat/status-cards.ts';
import { measurePublished } from './published.ts';
import { measureSharedState } from './shared-state.ts';
import { browserTreePssMb, chromiumPids } from './process-memory.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** An unknown flag Chromium ignores: marks the bench's own browser among this process's children. */
const VIEWER_FLAG = '--vibe-bench-viewer';
const TOKEN_DELAY_MS = Number(process.env.BENCH_TOKEN_MS ?? 4); // 250 tokens/s
// The model's closing words after its edits (a second request, as Claude's turns end): "Done."
// unless BENCH_CLOSING_CHARS asks for a summary that long (Claude's are a sentence or three).
const CLOSING_CHARS = Number(process.env.BENCH_CLOSING_CHARS ?? 0);
const closing = (): string =>
  CLOSING_CHARS > 0
    ? 'Built it: a counter with a timer icon, a button that counts clicks, and some filler text. '
        .repeat(Math.ceil(CLOSING_CHARS / 90))
        .slice(0, CLOSING_CHARS)
    : 'Done.';

/** Wraps a model and adds up the time spent inside it (every request of a turn, repairs too). */
class TimedModel implements CodeModel {
  modelMs = 0;
  lastTokenAt = 0;
  constructor(private readonly inner: CodeModel) {}
  get label() {
    return this.inner.label;
  }
  get offline() {
    return this.inner.offline;
  }
  generate: CodeModel['generate'] = (p, on, s, t) => this.time(() => this.inner.generate(p, on, s, t));
  refine: CodeModel['refine'] = (f, i, on, s, t) => this.time(() => this.inner.refine(f, i, on, s, t));
  private async time(call: () => Promise<CodeTurn>): Promise<CodeTurn> {
    const t0 = performance.now();
    const turn = await call();
    this.modelMs += performance.now() - t0;
    this.lastTokenAt = Date.now();
    const repair = turn.repair.bind(turn);
    return { ...turn, repair: (e, on) => this.time(() => repair(e, on)) };
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const appSource = (i: number, label: string) => `import { useState } from 'react';
import { Timer } from 'lucide-react';

export default function App() {
  const [n, setN] = useState(${i});
  return (
    <main className="min-h-screen bg-slate-900 text-slate-100 p-8">
      <h1 className="flex items-center gap-2 text-3xl font-bold"><Timer /> <span id="label">${label}</span></h1>
      <button className="mt-4 rounded bg-sky-600 px-4 py-2" onClick={() => setN(n + 1)}>Clicked {n} times</button>
      ${'<p className="text-slate-400">A paragraph of filler text so the answer has a realistic length.</p>\n      '.repeat(12)}
    </main>
  );
}
`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vibe-bench-'));
  const fake = await startFakeAnthropic({ tokenDelayMs: TOKEN_DELAY_MS });
  const logger = pino({ level: process.env.BENCH_LOG ?? 'warn' });
  const config = loadConfig({
    VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
    VIBE_APPS_DIR: join(dir, 'apps'),
    VIBE_PORT: '0',
    VIBE_MAX_RUNNING: String(RUNS + 1),
  });
  const model = new TimedModel(
    await createClaudeModel({ apiKey: 'bench', baseURL: fake.url, templateDir: TEMPLATE_DIR, logger }),
  );
  const app = await buildVibeApp(config, logger, { model });
  // The bench's own browser (the people's), told apart from the bot's check browser by a flag of its own.
  const browser = await launchChromium([VIEWER_FLAG]);
  const viewerBrowsers = chromiumPids(VIEWER_FLAG);
  const overhead: number[] = [];
  const renderMs: number[] = [];
  const pngKb: number[] = [];
  const firstStatus: number[] = [];
  const total: number[] = [];
  const refineToPage: number[] = [];
  const refineToLight: number[] = [];
  const checkMs: number[] = [];
  const publishMs: number[] = [];
  const versionBytes: number[] = [];
  const floor: { tscMs: number; buildMs: number; loadShotMs: number; floorMs: number }[] = [];
  const firstRender: number[] = [];
  // Publishing a version (taking the sandbox's build out, storing what is new): timed as the bot calls it.
  const publish = app.publisher.publish.bind(app.publisher);
  app.publisher.publish = async (appId, version) => {
    const p0 = performance.now();
    const manifest = await publish(appId, version);
    publishMs.push(performance.now() - p0);
    return manifest;
  };
  // The bot's own type checks (after each create's and refinement's writes), timed as it calls them.
  const check = app.sandbox.check.bind(app.sandbox);
  app.sandbox.check = async (id) => {
    const c0 = performance.now();
    const errors = await check(id);
    checkMs.push(performance.now() - c0);
    return errors;
  };
  let checkBrowserMb = NaN;
  try {
    for (let i = 0; i < RUNS; i++) {
      fake.script(
        {
          content: [
            {
              type: 'tool_use',
              name: 'str_replace_based_edit_tool',
              input: { command: 'create', path: 'src/App.tsx', file_text: appSource(i, `Bench ${i}`) },
            },
            { type: 'tool_use', name: 'set_app_info', input: { title: `Bench ${i}`, summary: 'A benchmark app.' } },
          ],
        },
        { content: [{ type: 'text', text: closing() }] },
      );
      const conv = new RecordingConversation(`bench:c`);
      const ctx: ChatContext = { conv, actor: { id: 'bench' }, channelId: 'bench:c' };
      let firstPostAt = 0;
      const post = conv.post.bind(conv);
      conv.post = async (card) => ((firstPostAt ||= performance.now()), post(card));
      // The creator's live view, opened as soon as the status message links it (a work in
      // progress): when does the app first render there, against when its link is posted?
      let watching: Promise<number> | undefined;
      const update = conv.update.bind(conv);
      conv.update = async (ref, card) => {
        const watch = card.links?.find((l) => l.label === WATCH_LABEL)?.url;
        if (watch && !watching) watching = firstRenderAt(browser, watch, `Bench ${i}`);
        return update(ref, card);
      };
      model.modelMs = 0;
      const t0 = performance.now();
      const t0Epoch = Date.now();
      await app.bot.command(ctx, `bench app ${i}`);
      const t1 = performance.now();
      if (!watching) throw new Error(`run ${i}: the status message never linked the live view`);
      firstRender.push((await watching) - t0Epoch);
      const live = conv.cards().find((c) => c.meta?.state === 'live');
      if (!live) throw new Error(`run ${i} did not go live: ${JSON.stringify(conv.cards().at(-1))}`);
      total.push(t1 - t0);
      overhead.push(t1 - t0 - model.modelMs);
      firstStatus.push(firstPostAt - t0);

      const sandboxId = (await app.store.getApp(live.meta!.appId!))!.sandboxId!;
      const measured = await measureFloor(app.sandbox as LocalSandboxProvider, sandboxId, browser, live.meta!.url!);
      floor.push(measured);
      // The runtime check again, with the browser warm: what it adds to every build.
      const rendered = await app.runtime.render(live.meta!.appId!);
      if (!rendered || rendered.errors.length) throw new Error(`runtime check failed: ${JSON.stringify(rendered)}`);
      renderMs.push(rendered.ms);
      pngKb.push((rendered.screenshot?.length ?? 0) / 1024);
      if (!live.image?.png) throw new Error('the live card has no screenshot');

      // Open both links, then refine; time from the model's last token to each page showing it:
      // the creator's live view (hot reload, in place) and the light view (rebuild, then reload).
      const page = await browser.newPage();
      const lightPage = await browser.newPage();
      // The light view reloads to show a new version: each document it loads notes when it first
      // shows the change (a locator's retries would add up to half a second of polling).
      await lightPage.addInitScript(noteWhenShown('Changed'));
      await page.goto(`${live.meta!.url!}dev/`);
      await lightPage.goto(live.meta!.url!);
      await page.locator('#label', { hasText: `Bench ${i}` }).waitFor({ timeout: 30_000 });
      await lightPage.locator('#label', { hasText: `Bench ${i}` }).waitFor({ timeout: 60_000 });
      await page.evaluate(() => {
        const w = window as unknown as { seenAt?: number };
        new MutationObserver(() => {
          if (document.querySelector('#label')?.textContent === 'Changed') w.seenAt ??= Date.now();
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
      fake.script(
        {
          content: [
            {
              type: 'tool_use',
              name: 'str_replace_based_edit_tool',
              input: { command: 'str_replace', path: 'src/App.tsx', old_str: `>Bench ${i}<`, new_str: '>Changed<' },
            },
          ],
        },
        { content: [{ type: 'text', text: 'Changed the label.' }] },
      );
      const thread = conv.events.find((e) => e.type === 'thread')!.thread!;
      const lightSeen = shownAt(lightPage, 60_000);
      const storedBefore = await app.store.blobs.storedBytes();
      await app.bot.threadMessage({ ...ctx, threadId: thread }, 'change the label');
      await app.bot.idle(); // the screenshot is kept in the background
      // What the version's build added, less its screenshot (kept as a blob for link cards and the home).
      const shot =
        conv
          .cards()
          .filter((c) => c.meta?.state === 'live')
          .at(-1)?.image?.png?.length ?? 0;
      versionBytes.push((await app.store.blobs.storedBytes()) - storedBefore - shot);
      await page.waitForFunction(() => (window as unknown as { seenAt?: number }).seenAt !== undefined, undefined, {
        timeout: 30_000,
      });
      const seenAt = await page.evaluate(() => (window as unknown as { seenAt: number }).seenAt);
      refineToPage.push(seenAt - model.lastTokenAt);
      refineToLight.push((await lightSeen) - model.lastTokenAt);
      await page.close();
      await lightPage.close();
      process.stderr.write(
        `run ${i + 1}/${RUNS}: total ${(t1 - t0).toFixed(0)} ms, model ${model.modelMs.toFixed(0)} ms, overhead ${overhead.at(-1)!.toFixed(0)} ms; refinement -> live view ${refineToPage.at(-1)!.toFixed(0)} ms, -> light view ${refineToLight.at(-1)!.toFixed(0)} ms\n`,
      );
    }
    checkBrowserMb = browserTreePssMb(viewerBrowsers);
  } finally {
    await browser.close();
    await app.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  console.log(
    `vibe-bot bench: ${RUNS} runs, local sandboxes, fake Claude at ${(1000 / TOKEN_DELAY_MS).toFixed(0)} tokens/s${CLOSING_CHARS > 0 ? `, closing with ${CLOSING_CHARS} characters of summary` : ''}`,
  );
  console.log(
    `(a) command -> live link, minus the model's own time (bot overhead): median ${ms(median(overhead))}  [total median ${ms(median(total))}]`,
  );
  const floorMs = median(floor.map((f) => f.floorMs));
  console.log(
    `    the floor, same app, same run: tsc ${ms(median(floor.map((f) => f.tscMs)))} beside a cold vite build ${ms(median(floor.map((f) => f.buildMs)))}, then load + screenshot of the built page in a warm browser ${ms(median(floor.map((f) => f.loadShotMs)))}: ${ms(floorMs)}; overhead / floor = ${(median(overhead) / floorMs).toFixed(2)}`,
  );
  console.log(
    `    command -> first render in the creator's live view (linked while it is written): median ${ms(median(firstRender))}, against command -> live link ${ms(median(total))}`,
  );
  console.log(`(b) refinement's last token -> creator's live view shows it (HMR):  median ${ms(median(refineToPage))}`);
  console.log(
    `    refinement's last token -> light view shows it (build + reload): median ${ms(median(refineToLight))}`,
  );
  console.log(`(c) command -> first status message:                                median ${ms(median(firstStatus))}`);
  console.log(
    `(d) the bot's checks of its writes (warm compiler + import check): median ${ms(median(checkMs))}; a cold tsc --noEmit: median ${ms(median(floor.map((f) => f.tscMs)))}`,
  );
  console.log(
    `(e) runtime check in headless Chromium (warm browser, load + settle + screenshot): median ${ms(median(renderMs))}; screenshot ${median(pngKb).toFixed(0)} KB; check browser ${checkBrowserMb.toFixed(0)} MB (PSS) after ${RUNS} runs`,
  );
  console.log(
    `(f) publish (the sandbox's build out, new files stored) per create or refinement: median ${ms(median(publishMs))} (${publishMs.length} publishes); bytes stored per refinement: median ${(median(versionBytes) / 1024).toFixed(1)} KB (its build; the screenshot kept beside it not counted)`,
  );
  console.log('first view of an app (offline pomodoro sample; cold cache; second load after a warm-up):');
  for (const line of await measureFastView()) console.log(`  ${line}`);
  console.log('published builds (offline pomodoro sample; no sandbox running):');
  for (const line of await measurePublished()) console.log(`  ${line}`);
  console.log('shared state (@vibe/shared): a change on one page -> shown on the other pages of the app:');
  for (const line of await measureSharedState()) console.log(`  ${line}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/** When the page at `url` (the creator's live view) first shows `label` (Date.now()). */
async function firstRenderAt(browser: Awaited<ReturnType<typeof launchChromium>>, url: string, label: string) {
  const page = await browser.newPage();
  try {
    await page.addInitScript(noteWhenShown(label));
    await page.goto(url);
    return await shownAt(page, 60_000);
  } finally {
    await page.close();
  }
}

/**
 * Runs in the page before its own scripts: notes (Date.now(), the same clock as the bench's) the
 * first moment `#label` reads `label`, as the DOM changes, so the time does not depend on polling.
 * A string: a function would carry tsx's helpers (`__name`), which the page does not have.
 */
function noteWhenShown(label: string): { content: string } {
  return {
    content: `(() => {
  const look = () => {
    if (window.shownAt === undefined && document.querySelector('#label')?.textContent === ${JSON.stringify(label)}) window.shownAt = Date.now();
  };
  new MutationObserver(look).observe(document, { subtree: true, childList: true, characterData: true });
})();`,
  };
}

/** When the page (with noteWhenShown) first showed its label, once it has (reloads included). */
async function shownAt(page: Page, timeout: number): Promise<number> {
  const handle = await page.waitForFunction(() => (window as unknown as { shownAt?: number }).shownAt, undefined, {
    timeout,
  });
  return (await handle.jsonValue()) as number;
}
