import { BuildFailedError } from '../errors.ts';
import type { RenderChecker, RenderResult } from '../ports/index.ts';
import type { ScratchState } from '../ports/shared.ts';

/**
 * Opens an app's production build (`build`: the bytes viewers will get, built in its sandbox) in
 * the check browser, served to it from memory on the sandbox's own address `url`, with a scratch
 * copy of the app's shared state. A build that fails is the app's error, like a page that does.
 * Without `build` (a provider that cannot hand over builds) the creator view is checked.
 */
export async function renderBuild(
  deps: {
    browser: RenderChecker;
    scratch?: (appId: string) => Promise<ScratchState>;
    now: () => number;
  },
  appId: string,
  url: string,
  build: (() => Promise<Map<string, Uint8Array>>) | undefined,
): Promise<RenderResult | undefined> {
  const base = url.replace(/\/?$/, '/');
  const started = deps.now();
  // The scratch copy is made while the build is awaited (it reads the store), and dropped if the build fails.
  const scratching = deps.scratch?.(appId);
  scratching?.catch(() => undefined); // its failure is thrown where it is awaited, below
  let files: Map<string, Uint8Array> | undefined;
  try {
    files = await build?.();
  } catch (err) {
    void scratching?.then((s) => s.close()).catch(() => undefined);
    if (!(err instanceof BuildFailedError)) throw err;
    const message = `Build error: ${err.message.replace(/^the light build failed: /, '')}`.slice(0, 1000);
    return {
      errors: [{ file: '(build)', line: 0, column: 0, message, source: 'browser' }],
      ms: deps.now() - started,
    };
  }
  const scratch = await scratching;
  try {
    return await deps.browser.render(files ? base : `${base}dev/`, {
      ...(files ? { files } : {}),
      ...(scratch ? { sharedState: scratch } : {}),
    });
  } finally {
    scratch?.close();
  }
}
