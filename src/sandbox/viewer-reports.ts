import type http from 'node:http';
import type { Logger } from '../core/ports.ts';

/** Largest error report body (the reporter sends at most ~2.5 KB). */
const MAX_ERROR_REPORT_BYTES = 4096;

export interface ViewerReportOptions {
  /** Told each accepted report (already bounded and shape-checked); never awaited. */
  onReport?(appId: string, report: { message: string; stack?: string }): void;
  logger: Pick<Logger, 'warn'>;
  /** Reports accepted per app, and from everyone, per minute. */
  limits: { perApp: number; total: number };
  /** How long a report's body may take to arrive: a client trickling bytes is cut off. */
  timeoutMs: number;
  now: () => number;
}

/**
 * `POST /apps/<id>/__vibe/errors`: `{ message, stack? }` as text/plain JSON, at most
 * MAX_ERROR_REPORT_BYTES, within `timeoutMs`, under the per-app and overall limits (counted
 * before the body is read, so a flood costs little). 204 once handed on.
 */
export class ViewerReports {
  private readonly limits: ReportLimits;

  constructor(private readonly opts: ViewerReportOptions) {
    this.limits = new ReportLimits(opts.limits, opts.now);
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse, appId: string): void {
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
    if (!this.limits.take(appId)) return refuse(429, { 'retry-after': '60' });
    if (Number(req.headers['content-length'] ?? 0) > MAX_ERROR_REPORT_BYTES) return refuse(413);
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      answer(408, { connection: 'close' });
      req.destroy();
    }, this.opts.timeoutMs);
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
        this.opts.onReport?.(appId, report);
      } catch (err) {
        this.opts.logger.warn({ err, appId }, 'gateway: a viewer error report was not handled');
      }
    });
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
 * Fixed one-minute windows: at most `perApp` reports per app id and `total` in all. The overall
 * count is checked first, so the per-app map holds at most `total` ids.
 */
class ReportLimits {
  private window = -1;
  private total = 0;
  private readonly perApp = new Map<string, number>();

  constructor(
    private readonly limits: { perApp: number; total: number },
    private readonly now: () => number,
  ) {}

  take(appId: string): boolean {
    const window = Math.floor(this.now() / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.total = 0;
      this.perApp.clear();
    }
    const n = this.perApp.get(appId) ?? 0;
    if (this.total >= this.limits.total || n >= this.limits.perApp) return false;
    this.total++;
    this.perApp.set(appId, n + 1);
    return true;
  }
}
