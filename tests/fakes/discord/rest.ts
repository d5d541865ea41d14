import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DiscordApiError, invalidFormBody, notFound, unauthorized } from './api-error.ts';
import type { RecordedRequest, RequestLog } from './request-log.ts';
import { ROUTES, type RouteContext } from './rest-routes.ts';
import { MAX_ATTACHMENTS, type DiscordState } from './state.ts';

/**
 * The HTTP side of the fake: `/api/v10/...` as @discordjs/rest calls it. Checks the bot token,
 * decodes JSON and multipart (`payload_json` + `files[n]`) bodies within Discord's upload limits,
 * answers with Discord's rate-limit headers, serves uploaded attachments (its CDN), records every
 * request, and can be told to fail the next matching requests.
 */

/** Discord's default upload limit per request for bots (boosted servers allow more). */
export const DEFAULT_UPLOAD_LIMIT = 25 * 1024 * 1024;

export const API_PREFIX = '/api/v10';

/** A canned failure for the next matching request(s), e.g. a 429 or a 500. */
export interface InjectedFailure {
  method: string;
  path: RegExp;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** How many requests it answers; default 1. */
  times?: number;
}

export interface RestDeps {
  token: string;
  log: RequestLog;
  context: () => Omit<RouteContext, 'params' | 'query' | 'body' | 'files'>;
  /** Requests per bucket per window (Discord's common per-route figure is in this range). */
  rateLimit?: { limit: number; windowMs: number };
  /** Bytes of files one request may carry (default DEFAULT_UPLOAD_LIMIT): beyond, 413 `40005`. */
  uploadLimit?: number;
  /** Where attachment bytes are looked up for `GET /attachments/…`. */
  state: () => DiscordState;
}

interface Bucket {
  remaining: number;
  resetAt: number;
}

export class FakeDiscordRest {
  private readonly failures: InjectedFailure[] = [];
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly deps: RestDeps) {}

  failNext(failure: InjectedFailure): void {
    this.failures.push({ times: 1, ...failure });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    const raw = await readBody(req);
    if (method === 'GET' && url.pathname.startsWith('/attachments/')) return this.serveAttachment(url.pathname, res);
    const { body, files } = await decodeBody(raw, headers['content-type'] ?? '');
    // @discordjs/rest percent-encodes `@original`; routes and tests see the decoded path.
    const record: RecordedRequest = {
      method,
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      body,
      files,
      headers,
      at,
      status: 0,
    };

    let status = 500;
    let json: unknown;
    let extraHeaders: Record<string, string> = {};
    try {
      ({ status, json, extraHeaders } = this.answer(record));
    } catch (error) {
      if (!(error instanceof DiscordApiError)) throw error;
      status = error.status;
      json = error.toJSON();
    }
    record.status = status;
    const out: Record<string, string> = { ...this.rateLimitHeaders(method, record.path), ...extraHeaders };
    if (json === undefined) {
      res.writeHead(status, out).end();
    } else {
      res.writeHead(status, { ...out, 'content-type': 'application/json' }).end(JSON.stringify(json));
    }
    this.deps.log.add(record);
  }

  private answer(r: RecordedRequest): { status: number; json?: unknown; extraHeaders: Record<string, string> } {
    const failure = this.failures.find((f) => f.method.toUpperCase() === r.method && f.path.test(r.path));
    if (failure) {
      failure.times = (failure.times ?? 1) - 1;
      if (failure.times <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
      return { status: failure.status, json: failure.body, extraHeaders: failure.headers ?? {} };
    }
    if (!r.path.startsWith(`${API_PREFIX}/`)) throw notFound();
    this.checkUploads(r);
    const path = r.path.slice(API_PREFIX.length);
    for (const route of ROUTES) {
      if (route.method !== r.method) continue;
      const match = route.pattern.exec(path);
      if (!match) continue;
      if (route.auth && r.headers.authorization !== `Bot ${this.deps.token}`) throw unauthorized();
      const result = route.handle({
        ...this.deps.context(),
        params: match.slice(1),
        query: r.query,
        body: r.body,
        files: r.files,
      });
      const status = result.status ?? (result.json === undefined ? 204 : 200);
      return { status, json: result.json, extraHeaders: {} };
    }
    throw notFound();
  }

  /** Discord's limits on the files of one request: their total size, and at most 10 of them. */
  private checkUploads(r: RecordedRequest): void {
    const bytes = r.files.reduce((n, f) => n + f.size, 0);
    if (bytes > (this.deps.uploadLimit ?? DEFAULT_UPLOAD_LIMIT))
      throw new DiscordApiError(413, 40005, 'Request entity too large');
    if (r.files.length > MAX_ATTACHMENTS)
      throw invalidFormBody([
        { path: ['files'], code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${MAX_ATTACHMENTS} or fewer in length.` },
      ]);
  }

  /** `GET /attachments/<channel>/<id>/<filename>`: the bytes uploaded for an attachment. */
  private serveAttachment(pathname: string, res: ServerResponse): void {
    const [, , , id, name] = pathname.split('/');
    const file = id && name ? this.deps.state().attachmentFile(id, decodeURIComponent(name)) : undefined;
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res
      .writeHead(200, {
        'content-type': file.contentType || 'application/octet-stream',
        'content-length': file.data.length,
      })
      .end(file.data);
  }

  /**
   * Discord's per-bucket headers. A bucket is method + route with its major id; the window is short
   * and generous so @discordjs/rest never has to wait unless a test means it to.
   */
  private rateLimitHeaders(method: string, path: string): Record<string, string> {
    const { limit, windowMs } = this.deps.rateLimit ?? { limit: 50, windowMs: 1000 };
    const key = `${method} ${path.replace(/^(\/api\/v10\/\w+\/[^/]+)(.*)$/, (_m, major: string, rest: string) => major + rest.replace(/\d{5,}/g, ':id'))}`;
    const now = Date.now();
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.resetAt <= now) {
      bucket = { remaining: limit, resetAt: now + windowMs };
      this.buckets.set(key, bucket);
    }
    bucket.remaining = Math.max(0, bucket.remaining - 1);
    const resetAfter = (bucket.resetAt - now) / 1000;
    return {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(bucket.remaining),
      'x-ratelimit-reset': (bucket.resetAt / 1000).toFixed(3),
      'x-ratelimit-reset-after': resetAfter.toFixed(3),
      'x-ratelimit-bucket': createHash('sha1').update(key).digest('hex').slice(0, 32),
      'x-ratelimit-scope': 'user',
    };
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function decodeBody(raw: Buffer, contentType: string): Promise<Pick<RecordedRequest, 'body' | 'files'>> {
  if (raw.length === 0) return { body: undefined, files: [] };
  if (contentType.startsWith('multipart/form-data')) {
    // The platform's own multipart parser, so the fake reads exactly what undici's FormData wrote.
    const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
    const files: RecordedRequest['files'] = [];
    const fields: Record<string, unknown> = {};
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') fields[field] = value;
      else
        files.push({
          field,
          filename: value.name,
          contentType: value.type,
          size: value.size,
          data: Buffer.from(await value.arrayBuffer()),
        });
    }
    const body = typeof fields.payload_json === 'string' ? JSON.parse(fields.payload_json) : fields;
    return { body, files };
  }
  const text = raw.toString('utf8');
  try {
    return { body: JSON.parse(text), files: [] };
  } catch {
    return { body: text, files: [] };
  }
}
