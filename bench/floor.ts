import type { Browser } from 'playwright-core';
import type { SandboxProvider } from '../src/core/ports/index.ts';

/**
 * The floor for one app on this machine, measured on the same app in the same run (issue 23):
 * the toolchain's own time with nothing of the bot's around it. The type check alone; the
 * template's `vite build` alone (a cold, plain build in the app's sandbox: the export's); and
 * the built page (the published light view) loaded and pictured in the bench's warm browser.
 * The type check runs beside the build, so the floor is the longer of the two plus the load.
 */
export async function measureFloor(
  sandbox: SandboxProvider,
  sandboxId: string,
  browser: Browser,
  lightUrl: string,
): Promise<{ tscMs: number; buildMs: number; loadShotMs: number; floorMs: number }> {
  const t0 = performance.now();
  const errors = await sandbox.check(sandboxId);
  const tscMs = performance.now() - t0;
  if (errors.length) throw new Error(`the bench app has errors: ${JSON.stringify(errors)}`);
  if (!sandbox.exportBuild) throw new Error('this sandbox provider cannot build');
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
