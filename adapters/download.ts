import { UserError } from '../src/core/errors.ts';

/** How long one attachment may take to download. */
const DOWNLOAD_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 3;

/**
 * Downloads a file a person attached (the core's `ImageAttachment.fetch`): only from the
 * platform's own file hosts (`allowed` origins: a URL in an event never sends the bot's token
 * anywhere else, redirects included), at most `maxBytes + 1` bytes (the core refuses more; the
 * rest is never read), within 30 seconds. An HTML page where a file was expected (Slack's
 * sign-in page for a token without `files:read`) is refused with `htmlMessage`.
 */
export async function downloadCapped(
  url: string,
  opts: { allowed: string[]; maxBytes: number; headers?: Record<string, string>; htmlMessage: string },
): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS);
  let target = new URL(url);
  for (let hop = 0; ; hop++) {
    if (!opts.allowed.includes(target.origin))
      throw new Error(`refusing to download an attachment from ${target.origin}`);
    const res = await fetch(target, { headers: opts.headers ?? {}, redirect: 'manual', signal });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location && hop < MAX_REDIRECTS) {
      await res.body?.cancel();
      target = new URL(location, target);
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`attachment download answered HTTP ${res.status}`);
    }
    if ((res.headers.get('content-type') ?? '').startsWith('text/html')) {
      await res.body?.cancel();
      throw new UserError(opts.htmlMessage);
    }
    return readCapped(res, opts.maxBytes);
  }
}

/** The body's first `maxBytes + 1` bytes at most; the rest is not read. */
async function readCapped(res: Response, maxBytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  if (!reader) return new Uint8Array();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      break;
    }
  }
  const out = new Uint8Array(Math.min(total, maxBytes + 1));
  let at = 0;
  for (const p of parts) {
    const take = Math.min(p.length, out.length - at);
    out.set(p.subarray(0, take), at);
    at += take;
    if (at === out.length) break;
  }
  return out;
}
