// Facts about built files that the bot's published builds and the sandboxes' own servers (the
// light view, the dev server's compression) both need. This is their one home: a sandbox sees
// only the template's folder, so scripts/install-template.mjs copies this file to
// sandbox-template/vibe-plugins/web-types.ts (a test checks the copy). It imports nothing but
// node:path, so the copy works there as it is.
import { extname } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/** The Content-Type of a built file, by its extension (the light view, and the bot's published builds). */
export function contentType(path: string): string {
  return TYPES[extname(path)] ?? 'application/octet-stream';
}

/** Text types worth compressing; images and fonts are compressed already. */
export function isCompressible(contentType: string | undefined): boolean {
  const type = String(contentType ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (type === 'text/event-stream') return false;
  return /^text\//.test(type) || /(javascript|json|xml|svg|wasm)/.test(type);
}
