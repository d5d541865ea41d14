import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SAMPLES } from '../../src/llm/samples/all-samples.ts';
import { TEMPLATE_VITE, makeSampleWorkspace, removeWorkspace, replaceSampleFiles, templateReady } from './sample-workspace.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const canRender = templateReady && existsSync(TEMPLATE_VITE) && existsSync(CHROMIUM);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once Vite prints its local URL; rejects if it exits first or takes too long. */
function waitForVite(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`vite did not start in 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vite exited with ${code}:\n${output}`));
    });
  });
}

// Never skipped under CI: the offline model is what a fresh checkout shows first.
describe.skipIf(!canRender && process.env.CI !== 'true')('the samples render in the sandbox template', () => {
  let browser: Browser | undefined;
  let vite: ChildProcess | undefined;
  let dir: string | undefined;

  // One workspace for all samples: Vite's pre-bundled dependencies (react, recharts, lucide) are cached
  // per project root, so restarting Vite in the same directory reuses them.
  beforeAll(async () => {
    dir = makeSampleWorkspace({});
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  afterAll(async () => {
    await browser?.close();
    removeWorkspace(dir);
  });
  afterEach(async () => {
    if (vite && vite.exitCode === null) {
      const exited = new Promise((resolve) => vite?.once('exit', resolve));
      vite.kill('SIGTERM');
      await exited;
    }
    vite = undefined;
  });

  it.each(ALL_SAMPLES.map((s) => [s.id, s] as const))(
    '%s shows its title in an <h1> with no console errors',
    async (_id, sample) => {
      replaceSampleFiles(dir!, sample.files);
      const port = await freePort();
      vite = spawn(TEMPLATE_VITE, [], { cwd: dir, env: { ...process.env, VIBE_PORT: String(port) }, stdio: 'pipe' });
      await waitForVite(vite, port);

      const page = await browser!.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        // The template has no favicon; the browser's automatic request for it is not the sample's fault.
        if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(`${m.text()} (${m.location().url})`);
      });
      page.on('pageerror', (e) => errors.push(e.message));
      try {
        await page.goto(`http://127.0.0.1:${port}/`);
        await expect.poll(() => page.locator('h1').first().textContent(), { timeout: 30_000 }).toContain(sample.title);
        // Let effects, timers and charts run once before judging the console.
        await page.waitForTimeout(500);
        await page.locator('button').first().click();
        await page.waitForTimeout(300);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    },
    90_000,
  );
});
