import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/bot-process.ts';
import { eventually } from '../support/eventually.ts';
import { needs } from '../support/needs.ts';

// A newcomer's first `npm start` on a machine without bubblewrap: the terminal chat (text mode,
// not --json) says so in one plain line, and the JSON log stays in VIBE_DATA_DIR/vibe.log.

const isJson = (line: string): boolean => {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
};

describe.runIf(needs('template'))('the terminal chat without bubblewrap on PATH', () => {
  let dir: string;
  let child: ChildProcessWithoutNullStreams | undefined;
  let exited: Promise<number | null>;
  const stdout: string[] = [];
  const stderr: string[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vibe-warnings-'));
    // PATH holds node and nothing else: no bwrap, no chromium.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: bin,
        HOME: process.env.HOME ?? '/root',
        VIBE_DATA_DIR: join(dir, 'data'),
        VIBE_STORE_URL: `sqlite://${join(dir, 'vibe.sqlite')}`,
        VIBE_APPS_DIR: join(dir, 'apps'),
        VIBE_PORT: '0',
        VIBE_BROWSER: 'off',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: child.stdout }).on('line', (l) => stdout.push(l));
    createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
    exited = new Promise((resolve) => child!.on('exit', (code) => resolve(code)));
  });

  afterAll(async () => {
    // Only when the test failed half-way: SIGTERM lets the bot stop its sandboxes, SIGKILL if it lingers.
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      const hard = setTimeout(() => child!.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(hard);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'prints the warning as one plain line, no JSON, and keeps the JSON in vibe.log',
    { timeout: 120_000 },
    async () => {
      child!.stdin.write('/vibe a pomodoro timer with a dark theme\n');
      await eventually(() => stdout.some((l) => /^\s+Open: http/.test(l)) || child!.exitCode !== null, 90_000).catch(
        () => undefined,
      );
      child!.stdin.end();
      const code = await exited;
      const seen = `stdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`;
      expect(code, seen).toBe(0);
      expect(
        stdout.some((l) => /^\s+Open: http/.test(l)),
        seen,
      ).toBe(true);

      expect(stdout.filter(isJson), seen).toEqual([]);
      expect(stderr.filter(isJson), seen).toEqual([]);
      expect(stdout, seen).toContain(
        'warning: bwrap is missing or unusable here: local sandboxes run WITHOUT isolation',
      );

      const log = readFileSync(join(dir, 'data', 'vibe.log'), 'utf8')
        .split('\n')
        .filter(Boolean);
      const entries = log.map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(entries).toContainEqual(
        expect.objectContaining({
          level: 40,
          msg: 'bwrap is missing or unusable here: local sandboxes run WITHOUT isolation',
        }),
      );
      expect(entries.some((e) => e.level === 30)).toBe(true); // info stays in the file, never on the screen
    },
  );
});
