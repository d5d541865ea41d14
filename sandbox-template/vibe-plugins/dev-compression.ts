import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Connect } from 'vite';
import { compress, pickEncoding } from './encoding.ts';
import { isCompressible } from './web-types.ts';

const INLINE_MAP = /\n?\/\/# sourceMappingURL=data:[^\n]*\s*$/;

/** Responses smaller than this gain nothing worth a compression pass. */
const MIN_BYTES = 1024;

export interface DevCompressionOptions {
  /** Only paths starting with this prefix are touched (the dev server's base). */
  prefix: string;
  /**
   * Paths (below `prefix`) of package code whose inline source maps are dropped: pre-bundled
   * deps (Vite 8's optimizer forces their maps on and re-attaches them to every response),
   * package files and Vite's own client. The app's own modules keep theirs, for debugging.
   */
  stripMapsUnder: string[];
  /** Brotli quality for on-the-fly compression: 5 is fast and close to gzip -9 in size. */
  brotliQuality?: number;
}

/**
 * Buffers each dev-server response under `prefix`, strips inline source maps from package
 * files (Vite 8's optimizer forces them on), and compresses text with brotli or gzip. Vite's
 * `send` ends every module with one `res.end(content)`, so buffering costs nothing; WebSocket
 * upgrades never pass through middleware, and event streams are passed through untouched.
 */
export function devCompression(opts: DevCompressionOptions): Connect.NextHandleFunction {
  const quality = opts.brotliQuality ?? 5;
  // Deps are requested with a version query and never change for it: compress each once.
  const cache = new Map<string, Buffer>();
  return (req, res, next) => {
    const url = req.url ?? '';
    const encoding = pickEncoding(req.headers['accept-encoding']);
    if (!url.startsWith(opts.prefix) || req.method === 'HEAD') return next();
    const path = url.split('?')[0]!;
    const stripMap = opts.stripMapsUnder.some((p) => path.startsWith(p));
    if (!encoding && !stripMap) return next();
    bufferResponse(req, res, async (body) => {
      const type = String(res.getHeader('content-type') ?? '');
      if (res.statusCode !== 200 || res.getHeader('content-encoding') || !isCompressible(type)) return body;
      if (stripMap && /javascript/.test(type)) body = Buffer.from(body.toString('utf8').replace(INLINE_MAP, '\n'));
      if (!encoding || body.length < MIN_BYTES) return body;
      const etag = res.getHeader('etag');
      const key = etag && /[?&]v=/.test(url) ? `${encoding}:${url}:${String(etag)}` : undefined;
      let packed = key ? cache.get(key) : undefined;
      if (!packed) {
        packed = await compress(body, encoding, quality);
        if (key) {
          if (cache.size >= 200) cache.delete(cache.keys().next().value!);
          cache.set(key, packed);
        }
      }
      res.setHeader('Content-Encoding', encoding);
      res.setHeader('Vary', 'Accept-Encoding');
      return packed;
    });
    next();
  };
}

type Chunk = string | Buffer | Uint8Array;
type Callback = (err?: Error | null) => void;

/**
 * Holds back headers and body until `end`, then lets `finish` replace the body. The response's
 * own `writeHead`, `write` and `end` are restored before the real reply is sent.
 */
function bufferResponse(req: IncomingMessage, res: ServerResponse, finish: (body: Buffer) => Promise<Buffer>): void {
  const chunks: Buffer[] = [];
  const original = { writeHead: res.writeHead, write: res.write, end: res.end };
  const restore = () => Object.assign(res, original);
  const toBuffer = (chunk: Chunk, enc?: BufferEncoding) =>
    typeof chunk === 'string' ? Buffer.from(chunk, enc) : Buffer.from(chunk);
  let passThrough = false;

  // An event stream must flow: the first write with that content type restores everything.
  const streaming = () => String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');

  res.writeHead = function (
    this: ServerResponse,
    status: number,
    reason?: string | OutgoingHttpHeaders,
    headers?: OutgoingHttpHeaders,
  ) {
    this.statusCode = status;
    if (typeof reason === 'string') this.statusMessage = reason;
    else headers = reason;
    if (Array.isArray(headers))
      for (let i = 0; i + 1 < headers.length; i += 2) this.setHeader(headers[i], headers[i + 1]);
    else if (headers) for (const [k, v] of Object.entries(headers)) if (v !== undefined) this.setHeader(k, v);
    return this;
  } as typeof res.writeHead;

  res.write = function (this: ServerResponse, chunk: Chunk, enc?: BufferEncoding | Callback, cb?: Callback) {
    if (passThrough || streaming()) {
      passThrough = true;
      restore();
      for (const c of chunks.splice(0)) res.write(c);
      return res.write(chunk, enc as BufferEncoding, cb);
    }
    chunks.push(toBuffer(chunk, typeof enc === 'string' ? enc : undefined));
    const done = typeof enc === 'function' ? enc : cb;
    if (done) queueMicrotask(() => done());
    return true;
  } as typeof res.write;

  res.end = function (this: ServerResponse, chunk?: Chunk | Callback, enc?: BufferEncoding | Callback, cb?: Callback) {
    if (typeof chunk === 'function') [cb, chunk] = [chunk, undefined];
    if (typeof enc === 'function') [cb, enc] = [enc, undefined];
    if (chunk !== undefined && chunk !== null) chunks.push(toBuffer(chunk as Chunk, enc));
    restore();
    if (passThrough) return res.end(cb);
    const body = Buffer.concat(chunks);
    finish(body).then(
      (out) => {
        if (out !== body || res.hasHeader('content-length')) res.setHeader('Content-Length', out.length);
        res.end(out, cb);
      },
      (err: Error) => {
        req.socket.destroy(err);
      },
    );
    return res;
  } as typeof res.end;
}
