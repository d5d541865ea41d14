import type { FileMap } from './ports/index.ts';

export const MAX_FILES = 40;
export const MAX_FILE_BYTES = 200 * 1024;

/** Longest segment, and longest whole path in UTF-8 bytes (ustar's name field holds 99). */
export const MAX_SEGMENT_CHARS = 64;
export const MAX_PATH_BYTES = 99;
/** One path segment: letters, digits, `_`, `.` and `-`, not starting with a dot. No control or bidi characters. */
const SEGMENT = /^[\p{L}\p{N}_-][\p{L}\p{N}\p{M}_.-]*$/u;

/**
 * Normalises a path the model (or anyone) asks to touch and checks it stays inside the app's
 * `src/`. Returns the normalised relative path ("src/App.tsx", NFC) or an error meant for the model.
 * Accepts "src/App.tsx", "/src/App.tsx" is refused (absolute), "App.tsx" is refused (outside src/).
 */
export function checkAppPath(raw: string): { path: string } | { error: string } {
  if (typeof raw !== 'string' || raw.trim() === '') return { error: 'path not allowed: empty path' };
  const shown = printable(raw);
  if (/[\p{Cc}\p{Cf}]/u.test(raw)) return { error: `path not allowed: ${shown} has control or formatting characters` };
  const p = raw.trim().replaceAll('\\', '/').normalize('NFC');
  if (p.startsWith('/') || /^[a-zA-Z]:/.test(p))
    return { error: `path not allowed: ${shown} is absolute; use a path like src/App.tsx` };
  const parts = p.split('/');
  if (parts.some((s) => s === '..')) return { error: `path not allowed: ${shown} contains ".."` };
  const clean = parts.filter((s) => s !== '' && s !== '.');
  if (clean[0] !== 'src' || clean.length < 2)
    return { error: `path not allowed: ${shown} is outside src/; every file must live under src/` };
  if (clean.some((s) => s.startsWith('.')))
    return { error: `path not allowed: ${shown} has a hidden name (starting with ".")` };
  const bad = clean.find((s) => !SEGMENT.test(s));
  if (bad !== undefined)
    return {
      error: `path not allowed: ${shown} has an invalid name; use only letters, digits, "_", "." and "-" in each part`,
    };
  if (clean.some((s) => s.length > MAX_SEGMENT_CHARS))
    return { error: `path not allowed: ${shown} has a part longer than ${MAX_SEGMENT_CHARS} characters` };
  const path = clean.join('/');
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES)
    return { error: `path not allowed: ${shown} is longer than ${MAX_PATH_BYTES} bytes` };
  if (!/\.(tsx?|css|json|svg|md)$/.test(path))
    return { error: `path not allowed: ${shown}; allowed file types are .ts .tsx .css .json .svg .md` };
  return { path };
}

/** `raw` with control and formatting characters (newlines, bidi overrides) shown as \u{…} escapes. */
function printable(raw: string): string {
  return raw.replace(/[\p{Cc}\p{Cf}]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** A file already in `files` whose path differs from `path` only in letter case (a clash on macOS and Windows). */
export function caseTwin(files: FileMap, path: string): string | undefined {
  const folded = path.toLowerCase();
  return Object.keys(files).find((p) => p !== path && p.toLowerCase() === folded);
}

/** Size caps for one file write; returns an error for the model, or undefined when fine. */
export function checkFileSize(path: string, text: string): string | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_FILE_BYTES)
    return `file too large: ${path} would be ${bytes} bytes; the limit is ${MAX_FILE_BYTES} bytes per file`;
  return undefined;
}

/** Would adding `path` to `files` exceed the file count cap? */
export function checkFileCount(files: FileMap, path: string): string | undefined {
  if (path in files) return undefined;
  if (Object.keys(files).length >= MAX_FILES) return `too many files: an app may have at most ${MAX_FILES} files`;
  return undefined;
}

/** Validates a whole file map (e.g. before writing it to a sandbox). Throws on the first problem. */
export function assertValidFiles(files: FileMap): void {
  const paths = Object.keys(files);
  if (paths.length > MAX_FILES) throw new Error(`too many files: ${paths.length} > ${MAX_FILES}`);
  for (const p of paths) {
    const r = checkAppPath(p);
    if ('error' in r) throw new Error(r.error);
    if (r.path !== p) throw new Error(`path not normalised: ${JSON.stringify(p)}`);
    const twin = caseTwin(files, p);
    if (twin) throw new Error(`path not allowed: ${p} and ${twin} differ only in letter case`);
    const size = checkFileSize(p, files[p] ?? '');
    if (size) throw new Error(size);
  }
}
