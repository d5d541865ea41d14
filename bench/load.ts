// npm run bench:load: N app creations through the real core and the real Slack HTTP adapter
// (signed /vibe requests to Bolt's receiver), a fake Slack Web API, a model with a fixed latency
// and an in-memory sandbox provider; on SQLite and Redis, with one and two bot instances sharing
// the store. Prints figures per run, each run's JSON line at its end; asserts nothing.
//
// Settings: VIBE_LOAD_N (default 1000), VIBE_LOAD_MODEL_MS (ms per model answer, 200),
// VIBE_LOAD_RUNS (e.g. "sqlite:1,redis:2"; default all four), VIBE_LOAD_RATE (requests per
// second; default 0: all at once), VIBE_LOAD_REDIS_URL (redis://127.0.0.1:6379),
// VIBE_LOAD_TIMEOUT_S (900), VIBE_LOAD_NO_JOURNAL=1 (diagnostic: bots without the build journal),
// VIBE_LOAD_BURNERS (threads that keep a core busy each beside the runs: a loaded machine; default 0).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig } from '../src/config.ts';
import type { AppRecord } from '../src/core/ports/index.ts';
import { loadTemplate } from '../src/llm/system-prompt.ts';
import { openAppStore } from '../src/store/open.ts';
import { TEMPLATE_DIR } from '../src/template.ts';
import { commandRequest, postToBolt, slashCommand, type BoltResponse } from '../tests/fakes/slack/requests.ts';
import { startFakeSlack, type FakeSlack } from '../tests/fakes/slack/web-api.ts';
import { startCpuBurners } from './cpu-burners.ts';
import { FixedLatencyModel, startLoadBot, type LoadBot } from './load-bot.ts';
import {
  CallTally,
  countingLogger,
  isFailureCard,
  listenOverflows,
  liveCardApp,
  mb,
  Peaks,
  percentile,
  round1,
} from './load-report.ts';

const N = Number(process.env.VIBE_LOAD_N ?? 1000);
const MODEL_MS = Number(process.env.VIBE_LOAD_MODEL_MS ?? 200);
const RATE = Number(process.env.VIBE_LOAD_RATE ?? 0);
const REDIS_URL = process.env.VIBE_LOAD_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** How long a run may take after its last ack before what has not arrived counts as lost. */
const TIMEOUT_MS = Number(process.env.VIBE_LOAD_TIMEOUT_S ?? 900) * 1000;
const JOURNAL = !process.env.VIBE_LOAD_NO_JOURNAL;
const BURNERS = Number(process.env.VIBE_LOAD_BURNERS ?? 0);
/** The channels the requests are spread over (as people in several channels would be). */
const CHANNELS = 10;
const TEAM = 'T0FAKE';
const SIGNING_SECRET = 'load-signing-secret';
const BOT_TOKEN = 'xoxb-load';

type StoreKind = 'sqlite' | 'redis';
type Store = Awaited<ReturnType<typeof openAppStore>>;

interface RunResult {
  n: number;
  instances: number;
  store: StoreKind;
  lost: number;
  duplicated: number;
  ack_p50_ms: number;
  ack_p99_ms: number;
  done_s: number;
  rss_mb: number;
}

interface Request {
  i: number;
  prompt: string;
  user: string;
  channel: string;
  instance: number;
}

const channelId = (c: number) => `C0LOAD${String(c).padStart(2, '0')}`;
const userId = (i: number) => `U0LOAD${String(i).padStart(5, '0')}`;

/** Every live app in the store, over every channel the requests used (paged as the gallery does). */
async function appsInStore(store: Store): Promise<AppRecord[]> {
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

async function runOnce(kind: StoreKind, instances: number, baseFiles: Record<string, string>): Promise<RunResult> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const namespace = `vibe-load-${runId}`;
  const dir = kind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'vibe-load-')) : undefined;
  const storeUrl = dir ? `sqlite://${join(dir, 'vibe.sqlite')}` : REDIS_URL;
  const perInstance = Math.min(1000, Math.ceil(N / instances)); // 1,000 is the settings' ceiling
  const config = loadConfig({
    VIBE_STORE_URL: storeUrl,
    // Room for every build of an instance at once; fair use as shipped (each request is a different person's).
    VIBE_MAX_CONCURRENT_BUILDS: String(perInstance),
    VIBE_MAX_RUNNING: String(perInstance),
  });
  const { logger, seen } = countingLogger(process.env.LOG_LEVEL ?? 'warn');
  console.log(
    `\n== ${kind}, ${instances} instance${instances > 1 ? 's' : ''}: ${N} creates ${RATE > 0 ? `at ${RATE}/s` : 'at once'}, model ${MODEL_MS} ms per answer${JOURNAL ? '' : ', NO build journal'}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );

  const bots: LoadBot[] = [];
  let tally: CallTally | undefined;
  const peaks = new Peaks(() => {
    const t = tally?.read();
    return { builds: bots.reduce((n, b) => n + b.slots.busy, 0), underWay: t ? t.posted - t.live : 0 };
  });
  let fake: FakeSlack | undefined;
  let observer: Store | undefined;
  try {
    observer = await openAppStore(storeUrl, { namespace, logger }); // counts at the end, clears the namespace
    const users = Array.from({ length: N }, (_, i) => ({ id: userId(i), name: `loader${i}` }));
    fake = await startFakeSlack({ teamId: TEAM, botToken: BOT_TOKEN, users });
    const slack = fake;
    tally = new CallTally(slack.calls);
    for (let k = 0; k < instances; k++)
      bots.push(
        await startLoadBot({
          config,
          namespace,
          model: new FixedLatencyModel(MODEL_MS, baseFiles),
          logger,
          slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: slack.url },
          journal: JOURNAL,
        }),
      );
    // A unique prompt per request: its app (and any duplicate) is found by it; round-robin over the instances.
    const requests: Request[] = Array.from({ length: N }, (_, i) => ({
      i,
      prompt: `a click counter titled with the tag [load-${runId}-${i}]`,
      user: userId(i),
      channel: channelId(i % CHANNELS),
      instance: i % instances,
    }));

    const overflowsBefore = listenOverflows();
    const started = Date.now();
    const progress = setInterval(() => {
      const { posted, live } = tally!.read();
      const building = bots.reduce((n, b) => n + b.slots.busy, 0);
      console.log(
        `  ${round1((Date.now() - started) / 1000)} s: ${posted} status messages posted, ${live} live, ${building} building, rss ${mb(process.memoryUsage().rss)} MB`,
      );
    }, 5000);
    let acks: (BoltResponse | Error)[];
    let allAcked: number;
    try {
      acks = await Promise.all(
        requests.map(async (r) => {
          if (RATE > 0) await new Promise((res) => setTimeout(res, started + (r.i * 1000) / RATE - Date.now()));
          const body = slashCommand({
            text: r.prompt,
            team_id: TEAM,
            channel_id: r.channel,
            channel_name: r.channel.toLowerCase(),
            user_id: r.user,
            user_name: `loader${r.i}`,
            response_url: slack.responseUrl({ channel: r.channel, user: r.user }),
          });
          const url = `http://127.0.0.1:${bots[r.instance]!.port}/slack/events`;
          return postToBolt(url, SIGNING_SECRET, commandRequest(body)).catch((err: unknown) =>
            err instanceof Error ? err : new Error(String(err)),
          );
        }),
      );
      allAcked = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        Promise.all(bots.map((b) => b.idle())).then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (!finished) console.log(`  gave up waiting ${TIMEOUT_MS / 1000} s after the last ack`);
    } finally {
      clearInterval(progress);
    }
    const overflowsAfter = listenOverflows();

    // What arrived: live cards on Slack and apps in the store, matched to requests by prompt.
    const liveCalls = slack.calls.flatMap((c) => {
      const appId = liveCardApp(c);
      return appId ? [{ appId, at: c.at }] : [];
    });
    const liveIds = new Set(liveCalls.map((l) => l.appId));
    const apps = await appsInStore(observer);
    const appById = new Map(apps.map((a) => [a.id, a]));
    const appsByPrompt = new Map<string, AppRecord[]>();
    for (const a of apps) appsByPrompt.set(a.prompt ?? '', [...(appsByPrompt.get(a.prompt ?? '') ?? []), a]);
    const cardsByPrompt = new Map<string, number>();
    for (const { appId } of liveCalls) {
      const p = appById.get(appId)?.prompt ?? `?${appId}`;
      cardsByPrompt.set(p, (cardsByPrompt.get(p) ?? 0) + 1);
    }
    const lost = requests.filter((r) => !(appsByPrompt.get(r.prompt) ?? []).some((a) => liveIds.has(a.id)));
    const duplicated = requests.filter(
      (r) => (appsByPrompt.get(r.prompt)?.length ?? 0) > 1 || (cardsByPrompt.get(r.prompt) ?? 0) > 1,
    );
    const ackMs = acks.flatMap((a) => (a instanceof Error ? [] : [a.ms]));
    const statuses = new Map<string, number>();
    for (const a of acks) {
      const s = a instanceof Error ? a.message : String(a.status);
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
    }
    const lastLive = Math.max(started, ...liveCalls.map((l) => l.at));
    const result: RunResult = {
      n: N,
      instances,
      store: kind,
      lost: lost.length,
      duplicated: duplicated.length,
      ack_p50_ms: Math.round(percentile(ackMs, 50)),
      ack_p99_ms: Math.round(percentile(ackMs, 99)),
      done_s: round1((lastLive - started) / 1000),
      rss_mb: mb(peaks.rss),
    };

    const sent = new Set(requests.map((r) => r.prompt));
    const strangers = [...appsByPrompt.keys()].filter((p) => !sent.has(p)).length;
    const loop = peaks.loopDelay();
    const overflows =
      overflowsBefore !== undefined && overflowsAfter !== undefined ? overflowsAfter - overflowsBefore : undefined;
    console.log(
      `  acks: ${[...statuses].map(([s, n]) => `${n} x ${s}`).join(', ')}; the last after ${round1((allAcked - started) / 1000)} s`,
    );
    console.log(
      `  ack ms: p50 ${result.ack_p50_ms}, p90 ${Math.round(percentile(ackMs, 90))}, p99 ${result.ack_p99_ms}, max ${Math.round(Math.max(...ackMs))}`,
    );
    console.log(
      `  live cards on Slack: ${liveCalls.length}; apps in the store: ${apps.length}${strangers ? ` (${strangers} prompts this run did not send)` : ''}`,
    );
    console.log(
      `  lost: ${result.lost}, duplicated: ${result.duplicated}; failure cards: ${slack.calls.filter(isFailureCard).length}, private answers (errors): ${slack.callsTo('response_url').length}`,
    );
    console.log(
      `  model answers: ${bots.map((b) => b.model.answers).join(' + ')}; most builds at once (holding a build slot): ${peaks.builds}, most creates under way (status posted, not live yet): ${peaks.underWay}; most sandboxes running at once (kept after the build): ${bots.map((b) => b.sandbox.maxAlive).join(' + ')}`,
    );
    console.log(
      `  slack web api calls: ${slack.calls.length} (${['chat.postMessage', 'chat.update', 'users.info'].map((m) => `${m} ${slack.callsTo(m).length}`).join(', ')}; errors ${slack.calls.filter((c) => c.error).length})`,
    );
    console.log(
      `  event loop delay: p99 ${loop.p99} ms, max ${loop.max} ms${overflows !== undefined ? `; connections refused by a full accept queue (machine-wide): ${overflows}` : ''}`,
    );
    console.log(`  first request to last app live: ${result.done_s} s`);
    console.log(`  rss: ${mb(peaks.rssAtStart)} MB at start, peak ${result.rss_mb} MB`);
    if (seen.warn + seen.error > 0) {
      console.log(`  log: ${seen.warn} warnings, ${seen.error} errors; most frequent:`);
      for (const [msg, n] of [...seen.samples].sort((a, b) => b[1] - a[1]).slice(0, 5))
        console.log(`    ${n} x ${msg}`);
    }
    console.log(JSON.stringify({ load: result }));
    return result;
  } finally {
    peaks.stop();
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

/** A full collection between runs, so one run's garbage is not counted in the next one's peak. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as (() => void) | undefined)?.();
}

async function main(): Promise<number> {
  if (!Number.isInteger(N) || N < 1) throw new Error(`VIBE_LOAD_N must be a positive integer, not "${N}"`);
  const runs = (process.env.VIBE_LOAD_RUNS ?? 'sqlite:1,sqlite:2,redis:1,redis:2').split(',').map((spec) => {
    const [kind, n] = spec.trim().split(':');
    if ((kind !== 'sqlite' && kind !== 'redis') || (n !== '1' && n !== '2'))
      throw new Error(`VIBE_LOAD_RUNS: "${spec}" is not one of sqlite:1, sqlite:2, redis:1, redis:2`);
    return [kind, Number(n)] as const;
  });
  const baseFiles = (await loadTemplate(TEMPLATE_DIR)).templateFiles;
  let failed = false;
  let lastPrinted = false;
  const burners = startCpuBurners(BURNERS);
  if (BURNERS > 0) console.log(`${BURNERS} CPU burner thread(s) beside the runs`);
  for (const [kind, instances] of runs) {
    collectGarbage();
    try {
      await runOnce(kind, instances, baseFiles);
      lastPrinted = true;
    } catch (err) {
      failed = true;
      lastPrinted = false;
      console.log(
        `  the ${kind} run with ${instances} instance(s) failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
  }
  await burners.stop();
  if (!lastPrinted) console.log('the last run printed no figures');
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
