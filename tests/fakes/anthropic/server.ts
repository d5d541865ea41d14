import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_FAKE_MODELS, FakeModels, type FakeModel } from './models.ts';
import { cacheTtlProblem, imageProblem, thinkingOn, thinkingProblem } from './request-checks.ts';
import { ThinkingLedger, type FakeWarning } from './thinking.ts';

/**
 * A fake Anthropic API on loopback: `POST /v1/messages`, JSON or SSE (`stream: true`) with the
 * real event shapes, answering from a per-test script; and the Models API (`GET /v1/models`,
 * see models.ts). Extended thinking (signed thinking blocks that must come back unchanged, see
 * thinking.ts), image blocks and prompt-cache TTLs are checked as the real API checks them.
 * Point the real SDK at `url`.
 */

export type { FakeModel } from './models.ts';
export type { FakeWarning } from './thinking.ts';

export type FakeBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; name: string; input: unknown; id?: string }
  /** Only in answers to requests with thinking on; the fake signs it. */
  | { type: 'thinking'; thinking: string }
  | { type: 'redacted_thinking' };

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** A scripted assistant message. `stop_reason` defaults to tool_use when a block is a tool_use, else end_turn. */
export interface FakeMessage {
  content: FakeBlock[];
  stop_reason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'refusal';
  /** Defaults: input ≈ request chars / 4, output ≈ streamed chars / 4, cache fields 0. */
  usage?: Partial<FakeUsage>;
}

/** A scripted API error, e.g. `{ status: 529, type: 'overloaded_error' }`. */
export interface FakeError {
  status: number;
  type: string;
  message?: string;
  /** Sent as `retry-after-ms` so the SDK's retry waits this long (the server's default applies when unset). */
  retryAfterMs?: number;
}

export type FakeReply = FakeMessage | FakeError;
export type FakeResponder = (request: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The parsed JSON body (loosely typed on purpose: tests poke at it). */
  body: any;
  /** 0-based position among all requests this server received. */
  index: number;
}

export interface FakeAnthropicOptions {
  /** Delay per streamed token (≈ 4 characters), to stream at a fixed token rate. Default 0. */
  tokenDelayMs?: number;
  /** `retry-after-ms` sent with scripted errors. Default 5, so SDK retries are fast in tests. */
  retryAfterMs?: number;
  /** Characters per text_delta / input_json_delta. Default 16. */
  chunkChars?: number;
  /** What `GET /v1/models` lists (default DEFAULT_FAKE_MODELS); changeable later through `fake.models`. */
  models?: FakeModel[];
  /** When set, only this key is accepted (others: 401 authentication_error); default any key. */
  apiKey?: string;
}

export interface FakeAnthropic {
  /** Base URL for the SDK (`new Anthropic({ baseURL: url })`). */
  url: string;
  /** Messages API requests (`POST /v1/messages`), in order. */
  requests: RecordedRequest[];
  /** Models API requests (`GET /v1/models…`), in order. */
  modelsRequests: RecordedRequest[];
  /** What the Models API serves; replace or edit it at will. */
  models: FakeModel[];
  /** Things the real API would quietly tolerate but a client should not do (see thinking.ts). */
  warnings: FakeWarning[];
  /** Appends replies to the queue; each request takes the next one. A function answers from the request. */
  script(...replies: (FakeReply | FakeResponder)[]): void;
  /** Replies not yet used. */
  pending(): number;
  /** Errors thrown by responder functions (each was answered with a 400, which the SDK does not retry). */
  responderErrors: unknown[];
  close(): Promise<void>;
}

const CHARS_PER_TOKEN = 4;

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const queue: (FakeReply | FakeResponder)[] = [];
  const requests: RecordedRequest[] = [];
  const responderErrors: unknown[] = [];
  const modelsRequests: RecordedRequest[] = [];
  const state = { models: options.models ?? structuredClone(DEFAULT_FAKE_MODELS) };
  const modelsApi = new FakeModels(() => state.models);
  const ledger = new ThinkingLedger();
  let ids = 0;
  const nextId = (prefix: string): string => `${prefix}_fake${String(++ids).padStart(6, '0')}`;

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        sendError(res, { status: 500, type: 'api_error', message: `fake anthropic crashed: ${String(err)}` }, options);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    if (req.method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
      modelsRequests.push({ method: 'GET', path, headers, body, index: modelsRequests.length });
      const unauthorized = authProblem(headers, options.apiKey);
      if (unauthorized) return sendError(res, unauthorized, options);
      const { status, body: answer } = modelsApi.answer(path, new URL(req.url ?? '/', 'http://x').searchParams);
      return sendJson(res, status, answer);
    }
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers, body, index: requests.length };
    requests.push(recorded);

    if (req.method !== 'POST' || path !== '/v1/messages') {
      return sendError(
        res,
        { status: 404, type: 'not_found_error', message: `fake anthropic: no route ${req.method} ${path}` },
        options,
      );
    }
    const unauthorized = authProblem(headers, options.apiKey);
    if (unauthorized) return sendError(res, unauthorized, options);
    const b = body as Record<string, any>;
    const invalid =
      validate(body) ??
      thinkingProblem(b) ??
      cacheTtlProblem(b) ??
      (await imageProblem(b)) ??
      ledger.check(b.messages, thinkingOn(b), recorded.index);
    if (invalid) return sendError(res, { status: 400, type: 'invalid_request_error', message: invalid }, options);

    const next = queue.shift();
    if (!next) {
      return sendError(
        res,
        {
          status: 400,
          type: 'invalid_request_error',
          message: 'fake anthropic: no scripted reply left for this request',
        },
        options,
      );
    }
    let reply: FakeReply;
    try {
      reply = typeof next === 'function' ? await next(recorded) : next;
    } catch (err) {
      // A failed assertion inside a responder must fail the test, not look like a retryable 500.
      responderErrors.push(err);
      return sendError(
        res,
        { status: 400, type: 'invalid_request_error', message: `fake anthropic: responder threw: ${String(err)}` },
        options,
      );
    }
    if ('status' in reply) return sendError(res, reply, options);
    if (!thinkingOn(b) && reply.content.some((c) => c.type === 'thinking' || c.type === 'redacted_thinking'))
      return sendError(
        res,
        {
          status: 400,
          type: 'invalid_request_error',
          message: 'fake anthropic: a thinking block was scripted for a request without thinking on',
        },
        options,
      );

    const message = buildMessage(reply, b.model, raw.length, nextId, ledger);
    ledger.remember(message.content);
    if (b.stream) await streamMessage(res, message, options);
    else sendJson(res, 200, message);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    modelsRequests,
    get models() {
      return state.models;
    },
    set models(list: FakeModel[]) {
      state.models = list;
    },
    warnings: ledger.warnings,
    script: (...replies) => void queue.push(...replies),
    pending: () => queue.length,
    responderErrors,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

// ------------------------------------------------------------------ protocol

type BuiltBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string };

interface BuiltMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: BuiltBlock[];
  stop_reason: string;
  stop_sequence: null;
  usage: FakeUsage & { output_tokens_details?: { thinking_tokens: number } };
}

function buildMessage(
  reply: FakeMessage,
  model: string,
  requestChars: number,
  nextId: (p: string) => string,
  ledger: ThinkingLedger,
): BuiltMessage {
  const content = reply.content.map((b): BuiltBlock => {
    switch (b.type) {
      case 'text':
        return { type: 'text', text: b.text };
      case 'tool_use':
        return { type: 'tool_use', id: b.id ?? nextId('toolu'), name: b.name, input: b.input };
      case 'thinking':
        return { type: 'thinking', thinking: b.thinking, signature: ledger.sign(b.thinking) };
      case 'redacted_thinking':
        return { type: 'redacted_thinking', data: ledger.redactedData() };
    }
  });
  const charsOf = (b: BuiltBlock) =>
    b.type === 'text'
      ? b.text.length
      : b.type === 'tool_use'
        ? JSON.stringify(b.input).length
        : b.type === 'thinking'
          ? b.thinking.length
          : b.data.length;
  const streamedChars = content.reduce((n, b) => n + charsOf(b), 0);
  const thinkingChars = content
    .filter((b) => b.type !== 'text' && b.type !== 'tool_use')
    .reduce((n, b) => n + charsOf(b), 0);
  const stop = reply.stop_reason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
  return {
    id: nextId('msg'),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stop,
    stop_sequence: null,
    usage: {
      input_tokens: Math.ceil(requestChars / CHARS_PER_TOKEN),
      output_tokens: Math.max(1, Math.ceil(streamedChars / CHARS_PER_TOKEN)),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      ...(thinkingChars > 0
        ? { output_tokens_details: { thinking_tokens: Math.ceil(thinkingChars / CHARS_PER_TOKEN) } }
        : {}),
      ...reply.usage,
    },
  };
}

/** Streams `message` as the real API does: message_start, blocks with deltas, message_delta, message_stop. */
async function streamMessage(res: ServerResponse, message: BuiltMessage, options: FakeAnthropicOptions): Promise<void> {
  const chunkChars = options.chunkChars ?? 16;
  const tokenDelayMs = options.tokenDelayMs ?? 0;
  let closed = false;
  res.on('close', () => (closed = true));
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': `req_${message.id}`,
  });
  const send = (event: string, data: unknown): void => {
    if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const pace = async (chars: number): Promise<void> => {
    if (tokenDelayMs > 0) await sleep(tokenDelayMs * Math.max(1, Math.ceil(chars / CHARS_PER_TOKEN)));
  };

  const { usage } = message;
  send('message_start', {
    type: 'message_start',
    message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
  });
  send('ping', { type: 'ping' });
  for (const [index, block] of message.content.entries()) {
    if (closed) return;
    if (block.type === 'text') {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const piece of chunks(block.text, chunkChars)) {
        await pace(piece.length);
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
      }
    } else if (block.type === 'thinking') {
      // As the real API streams it: an empty block, the text in thinking_deltas, then its signature.
      send('content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      });
      for (const piece of chunks(block.thinking, chunkChars)) {
        await pace(piece.length);
        send('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'thinking_delta', thinking: piece },
        });
      }
      send('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'signature_delta', signature: block.signature },
      });
    } else if (block.type === 'redacted_thinking') {
      send('content_block_start', { type: 'content_block_start', index, content_block: block });
    } else {
      send('content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {}, caller: { type: 'direct' } },
      });
      // The real API opens with an empty partial_json, then the JSON in several pieces.
      send('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: '' },
      });
      const json = JSON.stringify(block.input);
      for (const piece of chunks(json, Math.min(chunkChars, Math.max(1, Math.ceil(json.length / 3))))) {
        await pace(piece.length);
        send('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: piece },
        });
      }
    }
    send('content_block_stop', { type: 'content_block_stop', index });
  }
  send('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: message.stop_reason, stop_sequence: null },
    usage: {
      output_tokens: usage.output_tokens,
      ...(usage.output_tokens_details ? { output_tokens_details: usage.output_tokens_details } : {}),
    },
  });
  send('message_stop', { type: 'message_stop' });
  if (!closed) res.end();
}

/** The request checks of the real API that catch tool-loop bugs. Returns an error message or undefined. */
function validate(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b['model'] !== 'string') return 'model: Field required';
  if (typeof b['max_tokens'] !== 'number') return 'max_tokens: Field required';
  const messages = b['messages'];
  if (!Array.isArray(messages) || messages.length === 0) return 'messages: at least one message is required';
  if ((messages[0] as { role?: string }).role !== 'user') return 'messages: first message must use the "user" role';

  let breakpoints = 0;
  const countCache = (blocks: unknown): void => {
    if (Array.isArray(blocks))
      for (const x of blocks) if ((x as { cache_control?: unknown }).cache_control) breakpoints++;
  };
  countCache(b['system']);
  countCache(b['tools']);
  for (const [i, m] of (messages as { role: string; content: unknown }[]).entries()) {
    countCache(m.content);
    if (m.role !== 'assistant' || !Array.isArray(m.content)) continue;
    const uses = (m.content as { type: string; id?: string }[]).filter((c) => c.type === 'tool_use').map((c) => c.id);
    if (uses.length === 0) continue;
    const next = messages[i + 1] as { role: string; content: unknown } | undefined;
    const results = new Set(
      next && Array.isArray(next.content)
        ? (next.content as { type: string; tool_use_id?: string }[])
            .filter((c) => c.type === 'tool_result')
            .map((c) => c.tool_use_id)
        : [],
    );
    const missing = uses.filter((id) => !results.has(id));
    if (missing.length > 0) {
      return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
  }
  if (breakpoints > 4) return `A maximum of 4 blocks with cache_control may be provided. Found ${breakpoints}.`;
  return undefined;
}

// ------------------------------------------------------------------ plumbing

function authProblem(headers: Record<string, string>, key: string | undefined): FakeError | undefined {
  if (!headers['x-api-key'] && !headers['authorization'])
    return { status: 401, type: 'authentication_error', message: 'x-api-key header is required' };
  // The SDK sends the key as `x-api-key` or as a bearer token; either must be the one accepted.
  if (key !== undefined && (headers['x-api-key'] ?? headers['authorization']?.replace(/^Bearer /, '')) !== key)
    return { status: 401, type: 'authentication_error', message: 'invalid x-api-key' };
  if (!headers['anthropic-version'])
    return { status: 400, type: 'invalid_request_error', message: 'anthropic-version header is required' };
  return undefined;
}

function sendError(res: ServerResponse, e: FakeError, options: FakeAnthropicOptions): void {
  const retryAfterMs = e.retryAfterMs ?? options.retryAfterMs ?? 5;
  res.writeHead(e.status, {
    'content-type': 'application/json',
    'request-id': 'req_fake_error',
    'retry-after-ms': String(retryAfterMs),
  });
  res.end(
    JSON.stringify({
      type: 'error',
      error: { type: e.type, message: e.message ?? defaultMessage(e.type) },
      request_id: 'req_fake_error',
    }),
  );
}

function defaultMessage(type: string): string {
  return type === 'overloaded_error' ? 'Overloaded' : type.replaceAll('_', ' ');
}

function sendJson(res: ServerResponse, status: number, data: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_fake' });
  res.end(JSON.stringify(data));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
