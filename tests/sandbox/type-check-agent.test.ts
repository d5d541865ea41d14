import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: the agent is plain JavaScript, without types
import { TypeChecker } from '../../sandbox-template/agent/type-check.mjs';

// The agent's warm compiler when the compiler misbehaves (its real answers are compared with
// tsc's in type-check.test.ts): a hang is cut off at the deadline and the compiler killed; three
// failures and the checker stops trying.

interface Checker {
  check(): Promise<{ errors?: unknown[]; fallback?: string }>;
  warm(): void;
  close(): void;
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An API module whose compiler never answers; records each one started and killed. */
function hangingApi() {
  const started: { killed: string[] }[] = [];
  class API {
    readonly client = { process: { kill: (signal: string) => void this.record.killed.push(signal) } };
    private readonly record = { killed: [] as string[] };
    constructor() {
      started.push(this.record);
    }
    updateSnapshot(): Promise<never> {
      return new Promise(() => undefined);
    }
    close(): Promise<never> {
      return new Promise(() => undefined); // waits for the compiler, which never answers
    }
  }
  return { started, loadApi: async () => ({ API }) };
}

function appDir(): string {
  dir = mkdtempSync(join(tmpdir(), 'vibe-checker-'));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'App.tsx'), 'export default 1;\n');
  writeFileSync(join(dir, 'src', '.a1b2.tmp'), 'half a write');
  return dir;
}

describe("the agent's warm type check", () => {
  it('cuts off a compiler that hangs, kills it, and after three failures leaves it to the command-line tsc', async () => {
    const api = hangingApi();
    const checker = new TypeChecker(appDir(), { deadlineMs: 50, loadApi: api.loadApi }) as Checker;
    for (let i = 0; i < 3; i++) {
      const answer = await checker.check();
      expect(answer.fallback).toMatch(/no answer within 50 ms/);
    }
    expect(api.started).toHaveLength(3);
    expect(api.started.every((c) => c.killed.includes('SIGKILL'))).toBe(true);
    const t0 = Date.now();
    expect((await checker.check()).fallback).toMatch(/failed before/);
    expect(Date.now() - t0).toBeLessThan(50);
    expect(api.started).toHaveLength(3); // not started again
  });

  it('a warm-up that hangs is cut off too, and the check after it starts a new compiler', async () => {
    const api = hangingApi();
    const checker = new TypeChecker(appDir(), { deadlineMs: 50, loadApi: api.loadApi }) as Checker;
    checker.warm();
    expect((await checker.check()).fallback).toMatch(/no answer/);
    expect(api.started).toHaveLength(2);
    expect(api.started[0]!.killed).toEqual(['SIGKILL']);
  });
});
