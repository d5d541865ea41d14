import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import type { BrowserContext } from 'playwright-core';

export interface Frame {
  url: string;
  line: number; // 1-based
  column: number; // 1-based
}

/** The source map of a module the page ran (parsed once per module), or undefined. */
export type SourceMapper = (url: string) => Promise<TraceMap | undefined>;

/**
 * Frames of one stack looked at, at most: V8's own limit is 10, and a page may hand over a stack
 * it wrote itself, as long as it likes.
 */
const MAX_FRAMES = 20;

/** `at f (http://h/x.js:3:7)` and `http://h/x.js:3:7` frames of a V8 stack, top first. */
export function parseStack(stack: string): Frame[] {
  const frames: Frame[] = [];
  for (const m of stack.matchAll(/(?:\(|\bat |^|\s)((?:https?|file):\/\/[^\s()]+?):(\d+):(\d+)\)?/gm))
    frames.push({ url: m[1]!, line: Number(m[2]), column: Number(m[3]) });
  return frames;
}

/**
 * The first frame that is the app's own code, as `src/…:line:column` of the file the model
 * wrote: a module served from `…/src/…` (the dev view; without a usable map, the served file's
 * own position, close since Vite keeps lines), or a built chunk whose source map says the
 * position is in `src/` (a production build; a library's frame is skipped).
 */
export async function appFrame(
  frames: Frame[],
  sourceMap: SourceMapper,
): Promise<{ file: string; line: number; column: number } | undefined> {
  for (const frame of frames.slice(0, MAX_FRAMES)) {
    const file = srcPath(frame.url);
    if (!file && frame.url.includes('/node_modules/')) continue; // a dev server's library: not the app's
    const mapped = await mapFrame(frame, sourceMap).catch(() => undefined);
    if (mapped) return mapped;
    if (file) return { file, line: frame.line, column: frame.column };
  }
  return undefined;
}

/** `http://h/apps/x/dev/src/App.tsx?t=1` -> `src/App.tsx`; anything outside src/ -> undefined. */
function srcPath(url: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
  const at = path.indexOf('/src/');
  if (at < 0 || path.includes('/node_modules/') || path.includes('/@')) return undefined;
  return path.slice(at + 1);
}

async function mapFrame(frame: Frame, sourceMap: SourceMapper) {
  const map = await sourceMap(frame.url);
  if (!map) return undefined;
  const pos = originalPositionFor(map, { line: frame.line, column: Math.max(0, frame.column - 1) });
  if (pos.line === null || !pos.source) return undefined;
  const file = srcPath(new URL(pos.source, frame.url).href);
  return file ? { file, line: pos.line, column: pos.column + 1 } : undefined;
}

/** The inline source map Vite's dev server puts at the end of a module, or undefined. */
function inlineMap(code: string | undefined): string | undefined {
  const inline =
    code && /\/\/# sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/m.exec(code);
  return inline ? Buffer.from(inline[1]!, 'base64').toString('utf8') : undefined;
}

/**
 * The maps of a build served from memory: `<module>.map` beside each module under `prefix`.
 * Nothing is fetched (a crafted frame names nothing but a file of the build).
 */
export function mapperForBuild(files: Map<string, Uint8Array>, prefix: string): SourceMapper {
  const parsed = new Map<string, TraceMap | undefined>(); // several frames, one chunk: parsed once
  return async (url) => {
    if (!url.startsWith(prefix)) return undefined;
    const path = `${url.slice(prefix.length).split(/[?#]/)[0]}.map`;
    const bytes = files.get(path);
    if (!parsed.has(path)) parsed.set(path, traceMap(bytes && Buffer.from(bytes).toString('utf8')));
    return parsed.get(path);
  };
}

/** A parsed source map, or undefined when there is none or it is not one. */
function traceMap(text: string | undefined): TraceMap | undefined {
  if (!text) return undefined;
  try {
    return new TraceMap(text);
  } catch {
    return undefined;
  }
}

/**
 * The inline maps of a dev server's modules, fetched through the page's context (same TLS rules as the page), only from
 * the app itself: stack frames are the page's words, and a crafted one must not aim the bot at
 * another host.
 */
export function mapperFor(context: BrowserContext, allowed: (url: string) => boolean): SourceMapper {
  const fetched = new Map<string, Promise<TraceMap | undefined>>(); // several errors, one module: fetched and parsed once
  const fetchOnce = async (url: string) => {
    const res = await context.request.get(url, { timeout: 5000, maxRedirects: 0 }).catch(() => undefined);
    return traceMap(inlineMap(res?.ok() ? await res.text() : undefined));
  };
  return (url) => {
    if (!allowed(url)) return Promise.resolve(undefined);
    let text = fetched.get(url);
    if (!text) fetched.set(url, (text = fetchOnce(url)));
    return text;
  };
}
