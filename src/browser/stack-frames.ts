import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import type { BrowserContext } from 'playwright-core';

export interface Frame {
  url: string;
  line: number; // 1-based
  column: number; // 1-based
}

/** Fetches a module's served source (with its inline source map), or undefined. */
export type SourceMapper = (url: string) => Promise<string | undefined>;

/** `at f (http://h/x.js:3:7)` and `http://h/x.js:3:7` frames of a V8 stack, top first. */
export function parseStack(stack: string): Frame[] {
  const frames: Frame[] = [];
  for (const m of stack.matchAll(/(?:\(|\bat |^|\s)((?:https?|file):\/\/[^\s()]+?):(\d+):(\d+)\)?/gm))
    frames.push({ url: m[1]!, line: Number(m[2]), column: Number(m[3]) });
  return frames;
}

/**
 * The first frame that is the app's own code (`…/src/…`, not a dependency), mapped through the
 * module's inline source map to `src/…:line:column` of the file the model wrote. Without a
 * usable map, the served file's path and position (close, since Vite keeps lines).
 */
export async function appFrame(
  frames: Frame[],
  fetchSource: SourceMapper,
): Promise<{ file: string; line: number; column: number } | undefined> {
  for (const frame of frames) {
    const file = srcPath(frame.url);
    if (!file) continue;
    const mapped = await mapFrame(frame, fetchSource).catch(() => undefined);
    return mapped ?? { file, line: frame.line, column: frame.column };
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

async function mapFrame(frame: Frame, fetchSource: SourceMapper) {
  const code = await fetchSource(frame.url);
  const inline =
    code && /\/\/# sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/m.exec(code);
  if (!inline) return undefined;
  const map = new TraceMap(Buffer.from(inline[1]!, 'base64').toString('utf8'));
  const pos = originalPositionFor(map, { line: frame.line, column: Math.max(0, frame.column - 1) });
  if (pos.line === null || !pos.source) return undefined;
  const file = srcPath(new URL(pos.source, frame.url).href) ?? srcPath(frame.url);
  return file ? { file, line: pos.line, column: pos.column + 1 } : undefined;
}

/**
 * Fetches a module's source through the page's context (same TLS rules as the page), only from
 * the app itself: stack frames are the page's words, and a crafted one must not aim the bot at
 * another host.
 */
export function mapperFor(context: BrowserContext, allowed: (url: string) => boolean): SourceMapper {
  const fetched = new Map<string, Promise<string | undefined>>(); // several errors, one module: fetched once
  const fetchOnce = async (url: string) => {
    const res = await context.request.get(url, { timeout: 5000, maxRedirects: 0 }).catch(() => undefined);
    return res?.ok() ? res.text() : undefined;
  };
  return (url) => {
    if (!allowed(url)) return Promise.resolve(undefined);
    let text = fetched.get(url);
    if (!text) fetched.set(url, (text = fetchOnce(url)));
    return text;
  };
}
