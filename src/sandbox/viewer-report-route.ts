import type http from 'node:http';
import type { Logger } from '../core/ports/index.ts';

/** Largest error report body (the reporter sends at most ~2.5 KB). */
export const MAX_ERROR_REPORT_BYTES = 4096;

/** Reports accepted per minute: from one client (remote address), for one app, and in all. */
export interface ViewerReportLimits {
  perClient: number;
  perApp: number;
  total: number;
}

/** One page load sends at most 5 reports (the template's reporter); an app's viewers together 10 a minute. */
const DEFAULT_LIMITS: ViewerReportLimits = { perClient: 5, perApp: 10, total: 300 };

export interface ViewerReportRouteDeps {
  /** A report that passed every check, already bounded and shape-checked. Never awaited. */
  onViewerError?(appId: string, report: { message: string; stack?: string }): void;
  /**
   * The origin the app's sandbox serves its pages from when viewers open it there (a Modal
   * tunnel), else undefined: reports from that origin are the app's own too.
   */
  sandboxOrigin?(appId: string): Promise<string | undefined>;
  limits?: Partial<ViewerReportLimits>;
  /** How long a report's body may take to arrive (default 5 s): a client trickling bytes is cut off. */
  timeoutMs?: number;
  now?: () => number;
  logger: Pick<Logger, 'warn'>;
}

/**
 * `POST /apps/<id>/__vibe/errors`, answered by the gateway itself (never proxied, never wakes a
 * sandbox). A report is anyone's words, so it is let through only when: it is a POST; its
 * client (remote address, an IPv6 /64) is under its limit; its `Origin` is one the app's own
 * pages are served from (the caller says which, plus the app's sandbox); the app and everyone
 * together are under theirs; its body is `{ message, stack? }` as JSON within
 * MAX_ERROR_REPORT_BYTES and `timeoutMs`. Limits are counted before the body is read, so a
 * flood costs little. 204 once handed on; 403 for a foreign origin, 429 over a limit.
 */
export class ViewerReportRoute {
  private readonly limits: WindowLimits;

  constructor(private readonly deps: ViewerReportRouteDeps) {
    this.limits = new WindowLimits({ ...DEFAULT_LIMITS, ...deps.limits }, deps.now ?? Date.now);
  }

  /** `client`: who sent it, for its limit (the gateway's ClientLimits.clientOf); `ownOrigin(origin)`: whether the gateway serves app `appId`'s pages at `origin`. */
  async handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    appId: string,
    client: string,
    ownOrigin: (origin: string) => boolean,
  ): Promise<void> {
    const answer = (status: number, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'cache-control': 'no-store', 'content-length': '0', ...headers }).end();
    };
    // A body left unread: answer, then close the connection rather than read the rest.
    const refuse = (status: number, headers: Record<string, string> = {}) => {
      answer(status, { connection: 'close', ...headers });
      req.resume();
    };
    if (req.method !== 'POST') return refuse(405, { allow: 'POST' });
    if (!this.limits.takeClient(client)) return refuse(429, { 'retry-after': '60' });
    if (!(await this.fromApp(req, appId, ownOrigin))) return refuse(403);
    if (!this.limits.takeApp(appId)) return refuse(429, { 'retry-after': '60' });
    if (Number(req.headers['content-length'] ?? 0) > MAX_ERROR_REPORT_BYTES) return refuse(413);
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      answer(408, { connection: 'close' });
      req.destroy();
    }, this.deps.timeoutMs ?? 5_000);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_ERROR_REPORT_BYTES) return void chunks.push(chunk);
      clearTimeout(timer);
      answer(413, { connection: 'close' });
      req.destroy();
    });
    req.on('error', () => clearTimeout(timer));
    req.on('close', () => clearTimeout(timer));
    req.on('end', () => {
      clearTimeout(timer);
      if (res.headersSent) return;
      const report = parseErrorReport(Buffer.concat(chunks).toString('utf8'));
      if (!report) return answer(400);
      answer(204);
      try {
        this.deps.onViewerError?.(appId, report);
      } catch (err) {
        this.deps.logger.warn({ err, appId }, 'gateway: a viewer error report was not handled');
      }
    });
  }

  /**
   * The report comes from a page of the app: its `Origin` is one the app is served from. A
   * browser always sends one with a POST and a page cannot forge it, so another site, another
   * app's origin, and `null` (sandboxed frames, `file:`) are refused, as is a request with none.
   */
  private async fromApp(
    req: http.IncomingMessage,
    appId: string,
    ownOrigin: (origin: string) => boolean,
  ): Promise<boolean> {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !/^https?:\/\/[^/\s]+$/i.test(origin)) return false;
    if (ownOrigin(origin)) return true;
    if (!this.deps.sandboxOrigin) return false;
    try {
      const sandbox = await this.deps.sandboxOrigin(appId);
      return sandbox !== undefined && sameOrigin(origin, sandbox);
    } catch (err) {
      this.deps.logger.warn({ err, appId }, "gateway: the app's sandbox origin could not be looked up");
      return false;
    }
  }
}

/** Whether two origins (or URLs) are the same scheme, host and port. */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** `{ message: string, stack?: string }` and nothing else, or undefined. */
function parseErrorReport(body: string): { message: string; stack?: string } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const { message, stack, ...rest } = v as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || typeof message !== 'string' || message.trim() === '') return undefined;
  if (stack !== undefined && typeof stack !== 'string') return undefined;
  return stack ? { message, stack } : { message };
}

/**
 * Fixed one-minute windows: at most `perClient` reports per client, `perApp` per app id and
 * `total` in all. Clients are counted first (so a flood from one costs one map entry); the maps
 * hold at most `total` app ids and, per window, one entry per client that tried (at most
 * MAX_CLIENTS: past that a new client waits for the next window).
 */
class WindowLimits {
  private window = -1;
  private total = 0;
  private readonly perApp = new Map<string, number>();
  private readonly perClient = new Map<string, number>();

  constructor(
    private readonly limits: ViewerReportLimits,
    private readonly now: () => number,
  ) {}

  takeClient(client: string): boolean {
    this.roll();
    const n = this.perClient.get(client) ?? 0;
    if (n >= this.limits.perClient || (n === 0 && this.perClient.size >= MAX_CLIENTS)) return false;
    this.perClient.set(client, n + 1);
    return true;
  }

  takeApp(appId: string): boolean {
    this.roll();
    const n = this.perApp.get(appId) ?? 0;
    if (this.total >= this.limits.total || n >= this.limits.perApp) return false;
    this.total++;
    this.perApp.set(appId, n + 1);
    return true;
  }

  private roll(): void {
    const window = Math.floor(this.now() / 60_000);
    if (window === this.window) return;
    this.window = window;
    this.total = 0;
    this.perApp.clear();
    this.perClient.clear();
  }
}

/** Distinct clients counted per window at most. */
const MAX_CLIENTS = 50_000;
