import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

/** What may come back from a sandbox's build: at most this much once unpacked, and this many files. */
const MAX_BUILD_BYTES = 40 << 20;
const MAX_FILES = 2000;
/** The answer itself (base64 of gzip), read at most this far: its unpacked files fit in MAX_BUILD_BYTES. */
export const MAX_BUILD_ANSWER_BYTES = (MAX_BUILD_BYTES * 4) / 3 + 1024;
/** One path segment of a built file: what Vite writes (hashed asset names), nothing else... */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** ...in a path of a few segments (the segments alone would let a path, and a manifest, grow without end). */
const MAX_PATH_CHARS = 200;
const gunzipAsync = promisify(gunzip);

/**
 * The built files of a sandbox's answer. A sandbox hands over a production build (an export's,
 * or its light view's) as base64 of gzipped JSON `{ path: base64 }` (the agent's channel
 * carries text). It runs code a model wrote, so its answer is checked like any input: bounded,
 * and only plain relative paths (no `..`, no dot files).
 */
export async function readBuiltFiles(stdout: string): Promise<Map<string, Uint8Array>> {
  let parsed: unknown;
  try {
    // Unpacked on the thread pool: up to 80 MiB is no work for the event loop.
    const json = await gunzipAsync(Buffer.from(stdout.trim(), 'base64'), { maxOutputLength: MAX_BUILD_BYTES * 2 });
    parsed = JSON.parse(json.toString());
  } catch (err) {
    throw new Error(`the sandbox's build could not be read (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error("the sandbox's build sent no files");
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length === 0 || entries.length > MAX_FILES)
    throw new Error(`the sandbox's build sent ${entries.length} files`);
  const files = new Map<string, Uint8Array>();
  let total = 0;
  for (const [path, data] of entries) {
    if (typeof data !== 'string' || path.length > MAX_PATH_CHARS || !path.split('/').every((s) => SEGMENT.test(s)))
      throw new Error(`the sandbox's build sent a file it may not: ${JSON.stringify(path).slice(0, 80)}`);
    const bytes = Buffer.from(data, 'base64');
    total += bytes.length;
    if (total > MAX_BUILD_BYTES) throw new Error("the sandbox's build is too large");
    files.set(path, bytes);
  }
  if (!files.has('index.html')) throw new Error("the sandbox's build has no index.html");
  return files;
}
