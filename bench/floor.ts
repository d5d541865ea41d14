import type { Browser } from 'playwright-core';
import { SANDBOX_ROOT } from '../src/sandbox/bwrap-args.ts';
import type { LocalSandboxProvider } from '../src/sandbox/local.ts';
import { tscArgv } from '../src/sandbox/type-check.ts';

/**
 * The floor for one app on this machine, measured on the same app in the same run (issue 23):
 * the toolchain's own time with nothing of the bot's around it. A cold `tsc --noEmit` alone (the
 * bot's own check asks a compiler it keeps warm: that is timed apart, as the check); the
 * template's `vite build` alone (a cold, plain build in the app's sandbox: the export's); and
 * the built page (the published light view) loaded and pictured in the bench's warm browser.
 * The type check runs beside the build, so the floor is the longer of the two plus the load.
 */
export async function measureFloor(
  sandbox: LocalSandboxProvider,
  sandboxId: string,
  browser: Browser,
  lightUrl: string,
): Promise<{ tscMs: number; buildMs: number; loadShotMs: number; floorMs: number }> {
  if (!sandbox.isIsolated()) throw new Error('the bench runs isolated sandboxes (bubblewrap)');
  const t0 = performance.now();
  const tsc = await sandbox.run(sandboxId, tscArgv(SANDBOX_ROOT));
  const tscMs = performance.now() - t0;
  if (tsc.code !== 0) throw new Error(`the bench app has errors: ${tsc.stdout}`);
  const b0 = performance.now();
  await sandbox.exportBuild(sandboxId);
  const buildMs = performance.now() - b0;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.goto(lightUrl); // once, so the load measured is of a warm browser on a known page
    const l0 = performance.now();
    await page.goto(lightUrl, { waitUntil: 'load' });
    await page.screenshot({ type: 'png' });
    const loadShotMs = performance.now() - l0;
    return { tscMs, buildMs, loadShotMs, floorMs: Math.max(tscMs, buildMs) + loadShotMs };
  } finally {
    await page.close();
  }
}
