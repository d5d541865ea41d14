import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { FakeSlackFiles, type FakeSlackFile } from './files.ts';
import { FakeSocketMode } from './socket-mode.ts';
import { FakeSlackStreams, type FakeStreamingOptions, type ThreadStatus } from './streams.ts';
import { FakeUserFiles, type UserFileInput } from './user-files.ts';
import { FakeSlackWorkspace, type FakeSlackChannel, type FakeSlackMessage, type FakeSlackUser } from './workspace.ts';

/**
 * A fake Slack on loopback for the real SDKs: the Web API as @slack/web-api@8 calls it
 * (`POST <slackApiUrl><method>`, form-encoded or JSON, `Authorization: Bearer …`), response URLs,
 * file uploads (`files.uploadV2`: getUploadURLExternal, the upload URL, completeUploadExternal),
 * and Socket Mode on the same port. Point clients at it with `{ slackApiUrl: fake.url }`.
 */

export type { FakeSlackChannel, FakeSlackMessage, FakeSlackUser } from './workspace.ts';
export type { FakeSlackFile } from './files.ts';
export type { ThreadStatus } from './streams.ts';
export type { UserFileInput } from './user-files.ts';

export interface FakeSlackOptions extends FakeStreamingOptions {
  teamId?: string; // default T0FAKE
  teamName?: string; // default Fake Team
  teamDomain?: string; // default fake-team
  botUserId?: string; // default U0BOT
  botId?: string; // default B0BOT
  botName?: string; // default vibe-bot
  appId?: string; // default A0FAKE
  /** Users known to users.info (the bot user is always known). With any set, ephemeral posts to others fail. */
  users?: FakeSlackUser[];
  /** When set, only these channels exist (others: channel_not_found). Default: every channel id exists. */
  channels?: FakeSlackChannel[];
  /** When set, bot methods accept exactly this token (else invalid_auth); default any `xoxb-`/`xoxp-` token. */
  botToken?: string;
  /** When set, apps.connections.open accepts exactly this token; default any `xapp-` token. */
  appToken?: string;
  /**
   * The bot token's OAuth scopes. When set, a method whose scope is missing answers
   * `missing_scope` with `needed` and `provided`, as Slack does; default: every scope.
   */
  scopes?: string[];
  /** See FakeSocketModeOptions. */
  ackTimeoutMs?: number;
  /** Socket Mode ping interval in ms (default 5000). */
  socketPingIntervalMs?: number;
}

export interface RecordedCall {
  /** Web API method name, 'response_url' for POSTs to a response URL, 'upload_url' for file bytes. */
  method: string;
  /** The parsed body; JSON-encoded form fields (blocks, attachments, …) are decoded. */
  args: Record<string, any>;
  /** Bearer token (or `token` body field); undefined for response URLs. */
  token: string | undefined;
  /** Date.now() when the call was answered. */
  at: number;
  /** The error code the fake answered with, if any. */
  error?: string;
  /** The response URL id, for method 'response_url'; the file id, for 'upload_url'. */
  id?: string;
}

export interface ResponseUrlTarget {
  /** Channel the command or action came from: the answer lands there in `messages()`. */
  channel: string;
  /** Who sees ephemeral answers (response_type other than in_channel). */
  user?: string;
  /** The message a block action came from, for replace_original / delete_original. */
  messageTs?: string;
}

export interface FakeSlack {
  /** Web API base, ending in `/api/`: `new WebClient(token, { slackApiUrl: url })`. */
  url: string;
  /** http://127.0.0.1:PORT */
  origin: string;
  teamId: string;
  botUserId: string;
  botId: string;
  appId: string;
  calls: RecordedCall[];
  callsTo(method: string): RecordedCall[];
  /** Resolves with the first call (already made or future) to `method` matching `predicate`. Default timeout 5000 ms. */
  waitForCall(method: string, predicate?: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  /** Messages in `channel` in posting order (copies); deleted ones are gone. */
  messages(channel: string): FakeSlackMessage[];
  /** Every file an upload URL was handed out for, with its bytes once they arrived (copies). */
  files(): FakeSlackFile[];
  /** A ts from the same clock as posted messages, for user messages a test injects. */
  nextTs(): string;
  /**
   * A person (or, with `bot_id`, another app) writes a message: kept, so conversations.replies and
   * chat.unfurl find it; the test sends the matching event (with this message's ts) itself.
   */
  postAsPerson(input: {
    channel: string;
    user: string;
    text: string;
    thread_ts?: string;
    bot_id?: string;
  }): FakeSlackMessage;
  /** The App Home view last published for `user` (views.publish), if any. */
  homeView(user: string): Record<string, any> | undefined;
  /** What chat.unfurl attached to a composer's links (`unfurl_id` + `source`), by unfurl id. */
  composerUnfurls(unfurlId: string): Record<string, unknown> | undefined;
  /** A file a person shares: returns it as an event's `files[]` entry (see user-files.ts). */
  userFile(input: UserFileInput): Record<string, unknown>;
  /** Downloads of people's files the fake answered (served: false when it sent the sign-in page). */
  fileDownloads(): { id: string; served: boolean }[];
  /** Every assistant.threads.setStatus the fake accepted, in order. */
  threadStatuses: ThreadStatus[];
  /** A thread's status line as people see it now ('' when none or cleared by a bot reply). */
  threadStatus(channel: string, threadTs: string): string;
  /** A fresh response URL; with a target, its answers also change `messages(target.channel)`. */
  responseUrl(target?: ResponseUrlTarget): string;
  /**
   * The next `times` (default 1) calls to `method` (or 'response_url') fail with `error`.
   * `ratelimited` answers HTTP 429 with `Retry-After: 0`, which the SDK retries.
   */
  failNext(method: string, error: string, times?: number): void;
  socket: FakeSocketMode;
  /** Closes the server, every HTTP and WebSocket connection, and fails pending waits. */
  close(): Promise<void>;
}

/** Web API methods that take the app-level token; all others want a bot or user token. */
const APP_TOKEN_METHODS = new Set(['apps.connections.open']);
/** The scopes a bot token needs per method (any one of them); methods not listed need none. */
const METHOD_SCOPES: Record<string, string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.delete': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'users.info': ['users:read'],
  'conversations.info': ['channels:read', 'groups:read', 'im:read', 'mpim:read'],
  'conversations.replies': ['channels:history', 'groups:history', 'im:history', 'mpim:history'],
  'users.conversations': ['channels:read', 'groups:read', 'im:read', 'mpim:read'],
  'chat.unfurl': ['links:write'],
  'files.getUploadURLExternal': ['files:write'],
  'files.completeUploadExternal': ['files:write'],
  'files.info': ['files:read'],
  'chat.startStream': ['chat:write'],
  'chat.appendStream': ['chat:write'],
  'chat.stopStream': ['chat:write'],
  // Slack takes either for the status line (assistant:write is being retired in favour of chat:write).
  'assistant.threads.setStatus': ['chat:write', 'assistant:write'],
};
/** Form fields the SDK JSON-stringifies (any non-primitive) and that we decode back. */
const JSON_FIELDS = new Set([
  'blocks',
  'attachments',
  'metadata',
  'unfurls',
  'user_auth_blocks',
  'view',
  'files',
  'chunks',
  'loading_messages',
]);
const BOOLEAN_FIELDS = new Set([
  'unfurl_links',
  'unfurl_media',
  'mrkdwn',
  'reply_broadcast',
  'as_user',
  'link_names',
  'include_locale',
  'include_num_members',
]);

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const workspace = new FakeSlackWorkspace(
    {
      teamId: options.teamId ?? 'T0FAKE',
      teamName: options.teamName ?? 'Fake Team',
      teamDomain: options.teamDomain ?? 'fake-team',
      botUserId: options.botUserId ?? 'U0BOT',
      botId: options.botId ?? 'B0BOT',
      botName: options.botName ?? 'vibe-bot',
      appId: options.appId ?? 'A0FAKE',
    },
    options.users ?? [],
    options.channels,
  );
  const socket = new FakeSocketMode({
    appId: workspace.identity.appId,
    ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
    ...(options.socketPingIntervalMs !== undefined ? { pingIntervalMs: options.socketPingIntervalMs } : {}),
  });
  const files = new FakeSlackFiles(workspace, () => origin);
  const streams = new FakeSlackStreams(workspace, options);
  const userFiles = new FakeUserFiles(
    workspace,
    () => origin,
    (token) => !tokenProblem('files.info', token) && !scopeProblem('files.info', token),
  );
  const calls: RecordedCall[] = [];
  const waiters = new Set<(call: RecordedCall) => void>();
  const failures = new Map<string, { error: string; left: number }[]>();
  const responseTargets = new Map<string, ResponseUrlTarget | undefined>();
  let origin = '';

  const record = (call: RecordedCall): void => {
    calls.push(call);
    for (const waiter of [...waiters]) waiter(call);
  };

  const takeFailure = (method: string): string | undefined => {
    const queue = failures.get(method);
    const next = queue?.[0];
    if (!queue || !next) return undefined;
    if (--next.left <= 0) queue.shift();
    return next.error;
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'fatal_error', detail: String(err) });
      else res.destroy();
    });
  });
  server.on('upgrade', (req, sock, head) => {
    if (!socket.handleUpgrade(req, sock, head)) sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const bytes = await readBody(req);
    if (req.method === 'GET' && path.startsWith('/files-pri/'))
      return userFiles.serve(path, bearer(req.headers.authorization), res);
    if (req.method === 'POST' && path.startsWith('/upload/v1/'))
      return handleUpload(path.slice('/upload/v1/'.length), bytes, req.headers['content-type'] ?? '', res);
    const raw = bytes.toString('utf8');
    if (req.method === 'POST' && path.startsWith('/respond/'))
      return handleResponseUrl(path.slice('/respond/'.length), raw, res);
    if (!path.startsWith('/api/')) return sendJson(res, 404, { ok: false, error: 'not_found' });
    const method = path.slice('/api/'.length);
    const args = parseArgs(raw, req.headers['content-type'] ?? '', new URL(req.url ?? '/', 'http://x').searchParams);
    const token = bearer(req.headers.authorization) ?? (typeof args.token === 'string' ? args.token : undefined);

    const injected = takeFailure(method);
    let status = 200;
    let result: Record<string, unknown>;
    if (injected) {
      status = injected === 'ratelimited' ? 429 : 200;
      result = { ok: false, error: injected };
    } else {
      result = tokenProblem(method, token) ?? scopeProblem(method, token) ?? answer(method, args);
    }
    const error = result.ok === false ? String(result.error) : undefined;
    record({ method, args, token, at: Date.now(), ...(error ? { error } : {}) });
    const headers: Record<string, string> = status === 429 ? { 'retry-after': '0' } : {};
    sendJson(res, status, result, headers);
  }

  function answer(method: string, args: Record<string, any>): Record<string, unknown> {
    if (method === 'apps.connections.open') return { ok: true, url: socket.issueUrl(origin) };
    if (method === 'files.getUploadURLExternal') return files.getUploadURL(args);
    if (method === 'files.completeUploadExternal') return files.complete(args);
    if (method === 'files.info') return userFiles.info(args);
    return streams.call(method, args) ?? workspace.call(method, args) ?? { ok: false, error: 'unknown_method' };
  }

  function scopeProblem(method: string, token: string | undefined): Record<string, unknown> | undefined {
    const needed = METHOD_SCOPES[method];
    if (!options.scopes || !needed || token?.startsWith('xapp-')) return undefined;
    if (needed.some((s) => options.scopes!.includes(s))) return undefined;
    return { ok: false, error: 'missing_scope', needed: needed.join(','), provided: options.scopes.join(',') };
  }

  /** The upload URL handed out by files.getUploadURLExternal (pre-signed on Slack: no token needed). */
  async function handleUpload(uploadId: string, raw: Buffer, contentType: string, res: ServerResponse): Promise<void> {
    const { status, text, fileId } = await files.receive(uploadId, raw, contentType);
    record({
      method: 'upload_url',
      args: { size: raw.length, content_type: contentType },
      token: undefined,
      at: Date.now(),
      ...(fileId ? { id: fileId } : {}),
      ...(status !== 200 ? { error: text } : {}),
    });
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function tokenProblem(method: string, token: string | undefined): Record<string, unknown> | undefined {
    if (!token) return { ok: false, error: 'not_authed' };
    const wantsApp = APP_TOKEN_METHODS.has(method);
    const isApp = token.startsWith('xapp-');
    if (!isApp && !token.startsWith('xoxb-') && !token.startsWith('xoxp-')) return { ok: false, error: 'invalid_auth' };
    if (wantsApp !== isApp && method !== 'auth.test') return { ok: false, error: 'not_allowed_token_type' };
    const expected = isApp ? options.appToken : options.botToken;
    if (expected !== undefined && token !== expected) return { ok: false, error: 'invalid_auth' };
    return undefined;
  }

  function handleResponseUrl(id: string, raw: string, res: ServerResponse): void {
    let args: Record<string, any>;
    try {
      args = JSON.parse(raw || '{}') as Record<string, any>;
    } catch {
      record({ method: 'response_url', args: { raw }, token: undefined, at: Date.now(), id, error: 'invalid_payload' });
      return sendJson(res, 400, { ok: false, error: 'invalid_payload' });
    }
    const injected = takeFailure('response_url');
    const known = responseTargets.has(id);
    const target = responseTargets.get(id);
    const result = injected
      ? { ok: false as const, error: injected }
      : !known
        ? { ok: false as const, error: 'expired_url' }
        : target
          ? workspace.respond(target, args)
          : { ok: true as const };
    const error = result.ok ? undefined : String(result.error);
    record({ method: 'response_url', args, token: undefined, at: Date.now(), id, ...(error ? { error } : {}) });
    // Slack answers response URLs with real status codes, and Bolt's respond() throws on any non-2xx.
    const status = !error ? 200 : error === 'ratelimited' ? 429 : error === 'expired_url' ? 404 : 400;
    sendJson(res, status, result, status === 429 ? { 'retry-after': '0' } : {});
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rejectWaits = new Set<(err: Error) => void>();

  return {
    url: `${origin}/api/`,
    origin,
    teamId: workspace.identity.teamId,
    botUserId: workspace.identity.botUserId,
    botId: workspace.identity.botId,
    appId: workspace.identity.appId,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    waitForCall(method, predicate = () => true, timeoutMs = 5000) {
      const matches = (c: RecordedCall) => c.method === method && predicate(c);
      const found = calls.find(matches);
      if (found) return Promise.resolve(found);
      return new Promise<RecordedCall>((resolve, reject) => {
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(onCall);
          rejectWaits.delete(fail);
        };
        const onCall = (c: RecordedCall) => {
          if (!matches(c)) return;
          finish();
          resolve(c);
        };
        const fail = (err: Error) => {
          finish();
          reject(err);
        };
        const timer = setTimeout(() => {
          const seen = calls.map((c) => c.method).join(', ') || 'none';
          fail(new Error(`fake slack: no matching ${method} call within ${timeoutMs} ms (calls: ${seen})`));
        }, timeoutMs);
        waiters.add(onCall);
        rejectWaits.add(fail);
      });
    },
    messages: (channel) => workspace.messages(channel),
    files: () => files.list(),
    nextTs: () => workspace.nextTs(),
    postAsPerson: (input) => workspace.postAsPerson(input),
    homeView: (user) => structuredClone(workspace.surfaces.views.get(user)?.view),
    composerUnfurls: (id) => structuredClone(workspace.surfaces.composerUnfurls.get(id)),
    userFile: (input) => userFiles.add(input),
    fileDownloads: () => [...userFiles.downloads],
    threadStatuses: streams.statuses,
    threadStatus: (channel, threadTs) => streams.statusOf(channel, threadTs),
    responseUrl(target) {
      const id = randomUUID();
      responseTargets.set(id, target);
      return `${origin}/respond/${id}`;
    },
    failNext(method, error, times = 1) {
      const queue = failures.get(method) ?? [];
      queue.push({ error, left: times });
      failures.set(method, queue);
    },
    socket,
    async close() {
      for (const fail of [...rejectWaits]) fail(new Error('fake slack closed'));
      await socket.close();
      await new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
    },
  };
}

function parseArgs(raw: string, contentType: string, query: URLSearchParams): Record<string, any> {
  const fromQuery = Object.fromEntries(query);
  if (contentType.startsWith('application/json')) {
    try {
      return { ...fromQuery, ...(JSON.parse(raw || '{}') as Record<string, any>) };
    } catch {
      return { ...fromQuery, raw };
    }
  }
  const args: Record<string, any> = { ...fromQuery };
  for (const [key, value] of Object.entries(parseQuery(raw))) {
    const v = Array.isArray(value) ? value.at(-1) : value;
    if (v === undefined) continue;
    args[key] = decodeField(key, v);
  }
  return args;
}

function decodeField(key: string, value: string): unknown {
  if (BOOLEAN_FIELDS.has(key) && (value === 'true' || value === 'false')) return value === 'true';
  if (!JSON_FIELDS.has(key)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value; // Slack would answer invalid_blocks / invalid_arguments; the workspace checks shapes.
  }
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
