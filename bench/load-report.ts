// Measuring helpers of `npm run bench:load` (see load.ts): what the fake Slack received, the
// process's peaks while a run goes, and the bench's own log lines.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import type { RecordedCall } from '../tests/fakes/slack/web-api.ts';

export const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! : NaN;
};
export const round1 = (x: number) => Math.round(x * 10) / 10;
export const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

/** The app id of a live card (its Undo button's value), when `call` is a chat.update carrying one. */
export function liveCardApp(call: RecordedCall): string | undefined {
  if (call.method !== 'chat.update' || call.error || !Array.isArray(call.args.blocks)) return undefined;
  for (const block of call.args.blocks as { type?: string; elements?: { action_id?: string; value?: string }[] }[])
    for (const el of block.type === 'actions' ? (block.elements ?? []) : [])
      if (el.action_id?.startsWith('vibe:undo:')) return el.value;
  return undefined;
}

/** Status messages posted and live cards sent so far, read incrementally from the fake's record. */
export class CallTally {
  posted = 0;
  live = 0;
  private seen = 0;

  constructor(private readonly calls: RecordedCall[]) {}

  read(): this {
    for (; this.seen < this.calls.length; this.seen++) {
      const c = this.calls[this.seen]!;
      if (c.method === 'chat.postMessage' && !c.error) this.posted++;
      else if (liveCardApp(c) !== undefined) this.live++;
    }
    return this;
  }
}

/** A status message turned into a failure card (the build failed, or went wrong on our side). */
export const isFailureCard = (call: RecordedCall) =>
  call.method === 'chat.update' && !call.error && /failed|went wrong|interrupted/i.test(String(call.args.text ?? ''));

/**
 * Peaks while a run goes, sampled every 100 ms: the process's RSS, builds holding a build slot,
 * creates under way (status message posted, live card not yet), and the event loop's delay (how
 * long a ready callback, such as an incoming request's, waits its turn).
 */
export class Peaks {
  rss = process.memoryUsage().rss;
  readonly rssAtStart = this.rss;
  builds = 0;
  underWay = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });

  constructor(now: () => { builds: number; underWay: number }) {
    this.loop.enable();
    this.timer = setInterval(() => {
      const { builds, underWay } = now();
      this.rss = Math.max(this.rss, process.memoryUsage().rss);
      this.builds = Math.max(this.builds, builds);
      this.underWay = Math.max(this.underWay, underWay);
    }, 100);
  }

  /** Event-loop delay in ms: p99 and max. */
  loopDelay(): { p99: number; max: number } {
    return { p99: Math.round(this.loop.percentile(99) / 1e6), max: Math.round(this.loop.max / 1e6) };
  }

  stop(): void {
    clearInterval(this.timer);
    this.loop.disable();
  }
}

/**
 * TcpExtListenOverflows: connections the kernel refused because a listening socket's accept queue
 * was full (the client then retries its SYN after 1 s, 3 s, ...). Machine-wide; undefined off Linux.
 */
export function listenOverflows(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const i = lines.findIndex((l) => l.startsWith('TcpExt:'));
    const names = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    const at = names.indexOf('ListenOverflows');
    return at > 0 ? Number(values[at]) : undefined;
  } catch {
    return undefined;
  }
}

/** Log lines at warn and above, counted, with the first few of each message sent to stderr. */
export function countingLogger(level: string) {
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
          // A flood of identical lines says nothing new.
          if (n <= 3) method.apply(this, args);
        },
      },
    },
    pino.destination(2),
  );
  return { logger, seen };
}
