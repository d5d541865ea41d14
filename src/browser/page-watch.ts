import type { Page } from 'playwright-core';
import type { CheckError } from '../core/ports/index.ts';
import { appFrame, parseStack, type SourceMapper } from './stack-frames.ts';

/**
 * The page is settled when no request has been in flight and its DOM has not changed for this
 * long (or the check's settle time is up): no fixed wait beyond it. It is most of a check of a
 * small app (its load from memory takes 70 to 100 ms here), so it is short.
 */
const QUIET_MS = 100;
/** Where the page's last DOM change is noted (a MutationObserver from before the app's own code). */
const LAST_MUTATION = '__vibeLastMutation';
/**
 * The page's last DOM change and its clock, where it is scrolled, and whether it may change with
 * no DOM change. Plain JavaScript in a string (see page-problems.ts: tsx's helpers do not exist
 * in the page).
 */
const LAST_MUTATION_SCRIPT = `(() => ({
  at: Number(window[${JSON.stringify(LAST_MUTATION)}] ?? 0),
  now: performance.now(),
  scroll: window.scrollX + ',' + window.scrollY,
  moving: document.getAnimations().some((a) => a.playState === 'running') || document.querySelector('canvas, video') !== null,
}))()`;
/** Errors reported per check, at most (the repair message shows the first ones anyway). */
const MAX_ERRORS = 10;
/** Characters of one error's message, at most. */
const MAX_MESSAGE = 500;
/** Marks an error as found in the browser (repair wording, failure cards). */
export const RUNTIME = 'Runtime error:';

interface Found {
  message: string;
  /** A console.error: repaired if it can be, not a reason to withhold the link. */
  warning?: boolean;
  /** The page's stack (uncaught errors) or the console call's place, for mapping to src/. */
  stack?: string;
  at?: { url: string; line: number; column: number };
}

/** Notes the time of every DOM change in the page (run before the page's own scripts). */
function noteMutations(key: string): void {
  const w = window as unknown as Record<string, number>;
  w[key] = performance.now();
  new MutationObserver(() => (w[key] = performance.now())).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    characterData: true,
  });
}

interface PageMark {
  at: number;
  now: number;
  scroll: string;
  moving: boolean;
}

/**
 * When the page's DOM last changed and what its clock says now: undefined when the page cannot
 * say (it navigated, or closed); 'stuck' when it does not answer within `limitMs` (a script that
 * never yields).
 */
async function lastMutation(page: Page, limitMs: number): Promise<PageMark | 'stuck' | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<'stuck'>((resolve) => (timer = setTimeout(() => resolve('stuck'), limitMs)));
  const asked = page.evaluate<PageMark>(LAST_MUTATION_SCRIPT).catch(() => undefined);
  try {
    return await Promise.race([asked, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How long the page's DOM has been quiet, in ms: 0 when the page cannot say; Infinity when it
 * does not answer (a script that never yields changes nothing either: what is wrong with it is
 * found next, by the page's inspection).
 */
async function domQuietMs(page: Page, limitMs: number): Promise<number> {
  const mark = await lastMutation(page, limitMs);
  return mark === 'stuck' ? Infinity : mark ? mark.now - mark.at : 0;
}

/**
 * Listens to the page; `settled` waits for quiet (network and DOM); `clean` says whether an error
 * was seen; `errors` maps what was seen to CheckErrors. Call before the page is loaded.
 */
export async function watch(page: Page, own: string) {
  await page.addInitScript(noteMutations, LAST_MUTATION);
  const found: Found[] = [];
  const seen = new Set<string>();
  const add = (raw: Found): void => {
    // The page's words go to the model and into chat: bounded, one line.
    const f = { ...raw, message: oneLine(raw.message).slice(0, MAX_MESSAGE) };
    if (seen.has(f.message) || found.length >= MAX_ERRORS) return;
    seen.add(f.message);
    found.push(f);
  };
  // Only requests for the app itself count (its base path on its own origin), not the browser's own.
  const ownRequest = (u: string): boolean => u.startsWith(own);
  const base = new URL(own).pathname;
  let inflight = 0;
  let lastChange = Date.now();
  let changes = 0;
  const change = (d: number) => {
    inflight += d;
    lastChange = Date.now();
    changes++;
  };
  page.on('pageerror', (err) => add({ message: `${RUNTIME} ${err.name}: ${err.message}`, stack: err.stack }));
  page.on('console', (msg) => {
    // Chromium's own "Failed to load resource" lines: the app's failed requests are reported by
    // the request handlers below, and blocked outside resources are not the app's error here.
    if (msg.type() !== 'error' || msg.text().startsWith('Failed to load resource')) return;
    const loc = msg.location();
    add({
      message: `${RUNTIME} console.error: ${msg.text().split('\n')[0]}`,
      warning: true,
      at: loc.url ? { url: loc.url, line: loc.lineNumber + 1, column: loc.columnNumber + 1 } : undefined,
    });
  });
  page.on('request', () => change(1));
  page.on('requestfinished', () => change(-1));
  page.on('requestfailed', (req) => {
    change(-1);
    // ERR_ABORTED: the page navigated or reloaded under it (Vite reloads a page once after it
    // optimises a newly found dependency), not a request that failed.
    if (ownRequest(req.url()) && req.failure()?.errorText !== 'net::ERR_ABORTED')
      add({
        message: `${RUNTIME} request failed: ${pathOf(req.url(), base)} (${req.failure()?.errorText ?? 'failed'})`,
      });
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && ownRequest(res.url()))
      add({ message: `${RUNTIME} request failed: ${pathOf(res.url(), base)} answered ${res.status()}` });
  });
  return {
    add,
    async settled(maxMs: number): Promise<void> {
      const deadline = Date.now() + Math.max(0, maxMs);
      const pause = (ms: number) => new Promise((r) => setTimeout(r, Math.max(5, Math.min(ms, deadline - Date.now()))));
      while (Date.now() < deadline) {
        const networkQuiet = inflight === 0 ? Date.now() - lastChange : 0;
        if (networkQuiet < QUIET_MS) {
          await pause(QUIET_MS - networkQuiet);
          continue;
        }
        const domQuiet = await domQuietMs(page, Math.max(50, Math.min(1000, deadline - Date.now())));
        if (domQuiet >= QUIET_MS) return;
        await pause(QUIET_MS - domQuiet);
      }
    },
    /**
     * The page's state as far as the check can tell: its last DOM change and the requests seen so
     * far, and where it is scrolled. Two equal marks: nothing changed in between. Undefined when
     * the page cannot say, or when it may change with no DOM change (an animation or transition
     * running, a canvas or video on the page).
     */
    async mark(): Promise<string | undefined> {
      const m = await lastMutation(page, 1000);
      return m && m !== 'stuck' && !m.moving ? `${m.at}:${m.scroll}:${changes}` : undefined;
    },
    /** No error was seen (console errors, which are warnings, aside). */
    clean(): boolean {
      return found.every((f) => f.warning);
    },
    async errors(mapper: SourceMapper): Promise<CheckError[]> {
      const out: CheckError[] = [];
      for (const f of found) {
        const place = await appFrame(f.at ? [f.at] : f.stack ? parseStack(f.stack) : [], mapper);
        out.push({
          file: place?.file ?? '(browser)',
          line: place?.line ?? 0,
          column: place?.column ?? 0,
          message: f.message,
          source: 'browser',
          ...(f.warning ? { warning: true } : {}),
        });
      }
      return out;
    },
  };
}

/** Control and format characters (terminal escapes, bidi overrides) out; whitespace runs to one space. */
function oneLine(s: string): string {
  return s
    .replace(/[\p{Cc}\p{Cf}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function pathOf(u: string, base: string): string {
  const p = new URL(u).pathname;
  return p.startsWith(base) ? p.slice(base.length) || '/' : p;
}
