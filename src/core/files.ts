import type { FileMap } from './ports.ts';

export const MAX_FILES = 40;
export const MAX_FILE_BYTES = 200 * 1024;

/**
 * Normalises a path the model (or anyone) asks to touch and checks it stays inside the app's
 * `src/`. Returns the normalised relative path ("src/App.tsx") or an error meant for the model.
 * Accepts "src/App.tsx", "/src/App.tsx" is refused (absolute), "App.tsx" is refused (outside src/).
 */
export function checkAppPath(raw: string): { path: string } | { error: string } {
  if (typeof raw !== 'string' || raw.trim() === '') return { error: 'path not allowed: empty path' };
  const p = raw.trim().replaceAll('\\', '/');
  if (p.startsWith('/') || /^[a-zA-Z]:/.test(p)) return { error: `path not allowed: ${raw} is absolute; use a path like src/App.tsx` };
  const parts = p.split('/');
  if (parts.some((s) => s === '..')) return { error: `path not allowed: ${raw} contains ".."` };
  const clean = parts.filter((s) => s !== '' && s !== '.');
  if (clean[0] !== 'src' || clean.length < 2) return { error: `path not allowed: ${raw} is outside src/; every file must live under src/` };
  if (clean.some((s) => s.startsWith('.') || /[\0<>:"|?*]/.test(s))) return { error: `path not allowed: ${raw} has a hidden or invalid name` };
  if (!/\.(tsx?|css|json|svg|md)$/.test(p)) return { error: `path not allowed: ${raw}; allowed file types are .ts .tsx .css .json .svg .md` };
  return { path: clean.join('/') };
}

/** Size caps for one file write; returns an error for the model, or undefined when fine. */
export function checkFileSize(path: string, text: string): string | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_FILE_BYTES) return `file too large: ${path} would be ${bytes} bytes; the limit is ${MAX_FILE_BYTES} bytes per file`;
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
    if (r.path !== p) throw new Error(`path not normalised: ${p}`);
    const size = checkFileSize(p, files[p] ?? '');
    if (size) throw new Error(size);
  }
}
