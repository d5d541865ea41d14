import { BuildFailedError } from '../core/errors.ts';
import { MAX_BUILD_ANSWER_BYTES, readBuiltFiles } from './built-files.ts';
import { readCapped } from './read-capped.ts';

/** The sandbox waits up to a minute for the build; the bot a little longer. */
export const LIGHT_BUILD_TIMEOUT_MS = 75_000;

const path = (base: string, source: string) => `${base}__vibe/build?source=${encodeURIComponent(source)}`;

/**
 * The light view's production build of exactly `source` (the template's `__vibe/build`), from
 * the sandbox serving the app at `url` (a local sandbox's forwarded port). Bounded in time and
 * size, and checked (readBuiltFiles) like anything else a sandbox says.
 */
export async function fetchLightBuild(url: string, source: string): Promise<Map<string, Uint8Array>> {
  const u = new URL(url.replace(/\/?$/, '/'));
  const res = await fetch(`${u.origin}${path(u.pathname, source)}`, {
    signal: AbortSignal.timeout(LIGHT_BUILD_TIMEOUT_MS),
    redirect: 'error',
  });
  const text = res.body ? await readCapped(res.body, MAX_BUILD_ANSWER_BYTES, 'the light build') : '';
  if (res.status === 422) throw new BuildFailedError(`the light build failed: ${text.slice(0, 2000)}`);
  if (!res.ok) throw new Error(`the sandbox gave no light build (HTTP ${res.status}: ${text.slice(0, 200)})`);
  return readBuiltFiles(text);
}

/**
 * The same asked from inside a sandbox (Modal: an exec on the container's own loopback, so
 * neither the tunnel nor its certificate is involved): the answer on stdout, exit 3 with the
 * build's error on stderr when that build failed. `node` is the Node inside the sandbox.
 */
export function lightBuildArgv(node: string, port: number, base: string, source: string): string[] {
  const script =
    'fetch(process.argv[1]).then(async(r)=>{const t=await r.text();' +
    'if(r.ok){process.stdout.write(t);return;}process.stderr.write(t.slice(0,2000));process.exit(r.status===422?3:4);},' +
    '(e)=>{process.stderr.write(String(e));process.exit(5);});';
  return [node, '-e', script, `http://127.0.0.1:${port}${path(base, source)}`];
}
