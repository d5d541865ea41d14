// npm run bench:load: N app creations at once through the real core and the real Slack HTTP
// adapter (signed /vibe requests to Bolt's receiver), a fake Slack Web API, a model with a fixed
// latency and an in-memory sandbox provider; on SQLite and Redis, with one and two bot instances
// sharing the store. Prints figures per run, each run's JSON line last; asserts nothing.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import type { AppRecord } from '../src/core/ports.ts';
import { loadTemplate } from '../src/llm/system-prompt.ts';
import { openAppStore } from '../src/store/open.ts';
import { TEMPLATE_DIR } from '../src/template.ts';
import { commandRequest, postToBolt, slashCommand, type BoltResponse } from '../tests/fakes/slack/requests.ts';
import { startFakeSlack, type FakeSlack, type RecordedCall } from '../tests/fakes/slack/web-api.ts';
import { FixedLatencyModel, startLoadBot, type LoadBot } from './load-bot.ts';

const N = Number(process.env.VIBE_LOAD_N ?? 1000);
const MODEL_MS = Number(process.env.VIBE_LOAD_MODEL_MS ?? 200);
const REDIS_URL = process.env.VIBE_LOAD_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** How long a run may take after its last request before what has not arrived counts as lost. */
const TIMEOUT_MS = Number(process.env.VIBE_LOAD_TIMEOUT_S ?? 900) * 1000;
/** The channels the requests are spread over (as people in several channels would be). */
const CHANNELS = 10;
const TEAM = 'T0FAKE';
const SIGNING_SECRET = 'load-signing-secret';
const BOT_TOKEN = 'xoxb-load';

interface RunResult {
  n: number;
  instances: number;
  store: 'sqlite' | 'redis';
  lost: number;
  duplicated: number;
  ack_p50_ms: number;
  ack_p99_ms: number;
  done_s: number;
  rss_mb: number;
}

interface Request {
  i: number;
  tag: string;
  prompt: string;
  user: string;
  channel: string;
  instance: number;
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};
const round1 = (x: number) => Math.round(x * 10) / 10;
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

/** The app id of a live card (its Undo button's value), for a chat.update carrying one. */
function liveCardApp(call: RecordedCall): string | undefined {
  if (call.method !== 'chat.update' || call.error || !Array.isArray(call.args.blocks)) return undefined;
  for (const block of call.args.blocks as { type?: string; elements?: { action_id?: string; value?: string }[] }[])
    for (const el of block.type === 'actions' ? (block.elements ?? []) : [])
      if (el.action_id?.startsWith('vibe:undo:')) return el.value;
  return undefined;
}

const isFailureCard = (call: RecordedCall) =>
  call.method === 'chat.update' && !call.error && /failed|went wrong|interrupted/i.test(String(call.args.text ?? ''));

/** Counts the log lines at warn and above (the bench's own logger), and keeps a few. */
function countingLogger(level: string) {
  const seen = { warn: 0, error: 0, samples: new Map<string, number>() };
  const logger = pino(
    {
      level,
      hooks: {
        logMethod(args, method, lvl) {
          if (lvl < 40) return method.apply(this, args);
          if (lvl >= 50) seen.error++;
          else seen.warn++;
          const msg = String(args.find((a) => typeof a === 'string') ?? '?').slice(0, 120);
          const n = (seen.samples.get(msg) ?? 0) + 1;
          seen.samples.set(msg, n);
          // A flood of identical lines says nothing new: the first few of each go to stderr.
          if (n <= 3) method.apply(this, args);
        },
      },
    },
    pino.destination(2),
  );
  return { logger, seen };
}

/** Every live app in the store, over every channel the requests used (paged as the gallery does). */
async function appsInStore(store: Awaited<ReturnType<typeof openAppStore>>): Promise<AppRecord[]> {
  const out: AppRecord[] = [];
  for (let c = 0; c < CHANNELS; c++) {
    let cursor: string | undefined;
    do {
      const page = await store.appsInChannel(`slack:${TEAM}:${channelId(c)}`, 100, cursor);
      out.push(...page.items.filter((a) => !a.deleted && a.latestVersion > 0));
      cursor = page.next;
    } while (cursor);
  }
  return out;
}

const channelId = (c: number) => `C0LOAD${String(c).padStart(2, '0')}`;
const userId = (i: number) => `U0LOAD${String(i).padStart(5, '0')}`;

async function runOnce(kind: 'sqlite' | 'redis', instances: number, baseFiles: Record<string, string>) {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const namespace = `vibe-load-${runId}`;
  const dir = kind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'vibe-load-')) : undefined;
  const storeUrl = dir ? `sqlite://${join(dir, 'vibe.sqlite')}` : REDIS_URL;
  const perInstance = Math.ceil(N / instances);
  const config = loadConfig({
    VIBE_STORE_URL: storeUrl,
    // Room for every build of this instance at once (the settings' ceiling is 1,000).
    VIBE_MAX_CONCURRENT_BUILDS: String(Math.min(1000, Math.max(1, perInstance))),
    VIBE_MAX_RUNNING: String(Math.min(1000, Math.max(1, perInstance))),
    // Fair use as shipped: each request comes from a different person, so none is refused.
  });
  const { logger, seen } = countingLogger(process.env.LOG_LEVEL ?? 'warn');
  const label = `${kind}, ${instances} instance${instances > 1 ? 's' : ''}`;
  console.log(`\n== ${label}: ${N} creates, model ${MODEL_MS} ms per answer, namespace ${namespace}`);

  let peakRss = process.memoryUsage().rss;
  const rssAtStart = peakRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  let fake: FakeSlack | undefined;
  let observer: Awaited<ReturnType<typeof openAppStore>> | undefined;
  const bots: LoadBot[] = [];
  try {
    observer = await openAppStore(storeUrl, { namespace, logger });
    const users = Array.from({ length: N }, (_, i) => ({ id: userId(i), name: `loader${i}` }));
    fake = await startFakeSlack({ teamId: TEAM, botToken: BOT_TOKEN, users });
    for (let k = 0; k < instances; k++)
      bots.push(
        await startLoadBot({
          config,
          namespace,
          model: new FixedLatencyModel(MODEL_MS, baseFiles),
          logger,
          slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: fake.url },
        }),
      );
    const requests: Request[] = Array.from({ length: N }, (_, i) => {
      const tag = `load-${runId}-${i}`;
      return {
        i,
        tag,
        prompt: `a click counter titled with the tag [${tag}]`,
        user: userId(i),
        channel: channelId(i % CHANNELS),
        instance: i % instances,
      };
    });

    // Every request at once, as a burst of people would send them; round-robin over the instances.
    const live = fake;
    const started = Date.now();
    const progress = setInterval(() => {
      const done = live.calls.filter((c) => liveCardApp(c) !== undefined).length;
      const building = bots.reduce((n, b) => n + b.slots.busy, 0);
      console.log(
        `  ${round1((Date.now() - started) / 1000)} s: ${done}/${N} live, ${building} building, rss ${mb(process.memoryUsage().rss)} MB`,
      );
    }, 5000);
    let acks: (BoltResponse | Error)[];
    try {
      acks = await Promise.all(
        requests.map((r) =>
          postToBolt(
            `http://127.0.0.1:${bots[r.instance]!.port}/slack/events`,
            SIGNING_SECRET,
            commandRequest(
              slashCommand({
                text: r.prompt,
                team_id: TEAM,
                channel_id: r.channel,
                channel_name: r.channel.toLowerCase(),
                user_id: r.user,
                user_name: `loader${r.i}`,
                response_url: live.responseUrl({ channel: r.channel, user: r.user }),
              }),
            ),
          ).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))),
        ),
      );
      const allAcked = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        Promise.all(bots.map((b) => b.idle())).then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (!finished) console.log(`  gave up waiting ${TIMEOUT_MS / 1000} s after the last ack`);
      console.log(`  all acked after ${round1((allAcked - started) / 1000)} s`);
    } finally {
      clearInterval(progress);
    }

    // What arrived: live cards on Slack, apps in the store, by request.
    const liveCalls = live.calls.flatMap((c) => {
      const appId = liveCardApp(c);
      return appId ? [{ appId, at: c.at }] : [];
    });
    const apps = await appsInStore(observer);
    const appById = new Map(apps.map((a) => [a.id, a]));
    const appsByPrompt = new Map<string, AppRecord[]>();
    for (const a of apps) appsByPrompt.set(a.prompt ?? '', [...(appsByPrompt.get(a.prompt ?? '') ?? []), a]);
    const cardsByPrompt = new Map<string, number>();
    for (const { appId } of liveCalls) {
      const p = appById.get(appId)?.prompt ?? `?${appId}`;
      cardsByPrompt.set(p, (cardsByPrompt.get(p) ?? 0) + 1);
    }
    const liveIds = new Set(liveCalls.map((l) => l.appId));
    const lostRequests = requests.filter((r) => !(appsByPrompt.get(r.prompt) ?? []).some((a) => liveIds.has(a.id)));
    const duplicatedRequests = requests.filter(
      (r) => (appsByPrompt.get(r.prompt)?.length ?? 0) > 1 || (cardsByPrompt.get(r.prompt) ?? 0) > 1,
    );
    const ackMs = acks.flatMap((a) => (a instanceof Error ? [] : [a.ms]));
    const badAcks = acks.filter((a) => a instanceof Error || a.status !== 200);
    const lastLive = Math.max(started, ...liveCalls.map((l) => l.at));
    const result: RunResult = {
      n: N,
      instances,
      store: kind,
      lost: lostRequests.length,
      duplicated: duplicatedRequests.length,
      ack_p50_ms: Math.round(percentile(ackMs, 50)),
      ack_p99_ms: Math.round(percentile(ackMs, 99)),
      done_s: round1((lastLive - started) / 1000),
      rss_mb: mb(peakRss),
    };

    const failures = live.calls.filter(isFailureCard).length;
    const ephemerals = live.callsTo('response_url').length;
    const unknownPrompt = [...appsByPrompt.keys()].filter((p) => !requests.some((r) => r.prompt === p)).length;
    console.log(`  requests: ${N}, acks not 200: ${badAcks.length}`);
    console.log(
      `  ack ms: p50 ${result.ack_p50_ms}, p90 ${Math.round(percentile(ackMs, 90))}, p99 ${result.ack_p99_ms}, max ${Math.round(Math.max(...ackMs))}`,
    );
    console.log(
      `  live cards on Slack: ${liveCalls.length}; apps in the store: ${apps.length}${unknownPrompt ? ` (${unknownPrompt} prompts not sent by this run)` : ''}`,
    );
    console.log(
      `  lost: ${result.lost}, duplicated: ${result.duplicated}, failure cards: ${failures}, private answers (errors): ${ephemerals}`,
    );
    console.log(
      `  model answers: ${bots.map((b) => b.model.answers).join(' + ')}; most sandboxes at once: ${bots.map((b) => b.sandbox.maxAlive).join(' + ')}`,
    );
    console.log(
      `  slack web api calls: ${live.calls.length} (${['chat.postMessage', 'chat.update', 'users.info'].map((m) => `${m} ${live.callsTo(m).length}`).join(', ')}; errors ${live.calls.filter((c) => c.error).length})`,
    );
    console.log(`  first request to last app live: ${result.done_s} s`);
    console.log(`  rss: ${mb(rssAtStart)} MB at start, peak ${result.rss_mb} MB`);
    if (seen.warn + seen.error > 0) {
      console.log(`  log: ${seen.warn} warnings, ${seen.error} errors; most frequent:`);
      for (const [msg, n] of [...seen.samples].sort((a, b) => b[1] - a[1]).slice(0, 5))
        console.log(`    ${n} x ${msg}`);
    }
    console.log(JSON.stringify({ load: result }));
    return result;
  } finally {
    clearInterval(sampler);
    for (const b of bots) await b.close();
    await fake?.close().catch((err: unknown) => logger.error({ err }, 'load bench: the fake Slack did not stop'));
    if (observer) {
      if (kind === 'redis')
        await observer
          .destroyNamespace()
          .catch((err: unknown) => logger.error({ err }, 'load bench: could not delete the namespace'));
      await observer.close().catch(() => undefined);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** A full collection between runs, so one run's garbage is not the next one's peak. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  gc?.();
}

async function main(): Promise<number> {
  if (!Number.isInteger(N) || N < 1)
    throw new Error(`VIBE_LOAD_N must be a positive integer (got ${process.env.VIBE_LOAD_N})`);
  const baseFiles = (await loadTemplate(TEMPLATE_DIR)).templateFiles;
  // VIBE_LOAD_RUNS picks some of the four runs, e.g. "sqlite:1,redis:2" (default: all four).
  const runs = (process.env.VIBE_LOAD_RUNS ?? 'sqlite:1,sqlite:2,redis:1,redis:2').split(',').map((spec) => {
    const [kind, n] = spec.trim().split(':');
    if ((kind !== 'sqlite' && kind !== 'redis') || (n !== '1' && n !== '2'))
      throw new Error(`VIBE_LOAD_RUNS: "${spec}" is not one of sqlite:1, sqlite:2, redis:1, redis:2`);
    return [kind, Number(n)] as const;
  });
  let failed = 0;
  const lines: string[] = [];
  for (const [kind, instances] of runs) {
    collectGarbage();
    try {
      lines.push(JSON.stringify({ load: await runOnce(kind, instances, baseFiles) }));
    } catch (err) {
      failed++;
      console.log(
        `  the ${kind} run with ${instances} instance(s) failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
  }
  // The JSON lines were printed as each run ended; the last line of the output is the last run's.
  if (failed > 0 && lines.length > 0) console.log(lines.at(-1));
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
