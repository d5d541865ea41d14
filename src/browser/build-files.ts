import { contentType } from '../core/apps/web-types.ts';

/** What Playwright's `route.fulfill` takes. */
interface Answer {
  status: number;
  contentType: string;
  body: Buffer | string;
  headers?: Record<string, string>;
}

/**
 * The answer to the check browser's request for `sub` (the path below the app's base, query
 * and all) from a production build held in memory, as the light view would answer it: the
 * app's page for `''` and unknown routes, 404 for a missing script or asset. Source maps are
 * the bot's alone (404 to the page); viewer error reports are taken and dropped (the check
 * finds errors itself).
 */
export function fromBuild(files: Map<string, Uint8Array>, sub: string): Answer {
  let path = sub.split(/[?#]/)[0]!;
  try {
    path = decodeURIComponent(path);
  } catch {
    return notFound();
  }
  if (path === '__vibe/errors') return { status: 204, contentType: 'text/plain', body: '' };
  if (path.endsWith('.map') || path.startsWith('__vibe/')) return notFound();
  const file = files.get(path === '' ? 'index.html' : path);
  if (file) return { status: 200, contentType: contentType(path || 'index.html'), body: Buffer.from(file) };
  if (path.startsWith('assets/') || /\.(m?js|css)$/.test(path)) return notFound();
  return { status: 200, contentType: 'text/html; charset=utf-8', body: Buffer.from(files.get('index.html') ?? '') };
}

function notFound(): Answer {
  return { status: 404, contentType: 'text/plain; charset=utf-8', body: 'not found' };
}
