// Shared set-up for the local sandbox tests: a recording logger, temp dirs, the template path.
import { readFileSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../src/core/ports/index.ts';
import { afterAll, beforeAll } from 'vitest';
import { LocalSandboxProvider } from '../../src/sandbox/local.ts';
import { processTree } from '../../src/sandbox/process-tree.ts';
import { needs } from '../support/needs.ts';

export const templateDir = resolve(fileURLToPath(new URL('../../sandbox-template', import.meta.url)));
export { eventually } from '../support/eventually.ts';

export interface LogEntry {
  level: string;
  obj: object;
  msg?: string;
}

export function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void entries.push({ level, obj, msg });
  return { entries, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** The template's own src/, as the file map an app starts from. */
export function templateFiles(): Record<string, string> {
  const read = (p: string) => readFileSync(join(templateDir, p), 'utf8');
  return {
    'src/main.tsx': read('src/main.tsx'),
    'src/index.css': read('src/index.css'),
    'src/vite-env.d.ts': read('src/vite-env.d.ts'),
  };
}

/** A process and everything it started (bwrap, the agent, Vite and its helpers), with their command lines and environments. */
export function processesUnder(
  rootPid: number | undefined,
): { pid: number; cmdline: string; environ: Record<string, string> }[] {
  const out: { pid: number; cmdline: string; environ: Record<string, string> }[] = [];
  if (rootPid === undefined) return out;
  for (const pid of processTree(rootPid)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      const environ = Object.fromEntries(
        readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
      out.push({ pid, cmdline, environ });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * A local provider for the enclosing describe (under bubblewrap where it works), its apps in a
 * temp dir; every sandbox it started is stopped after the tests, and the dir removed.
 */
export function useLocalProvider(prefix: string, logger: Logger = recordingLogger()): () => LocalSandboxProvider {
  let tmp: Awaited<ReturnType<typeof tempDir>> | undefined;
  let provider: LocalSandboxProvider | undefined;
  beforeAll(async () => {
    tmp = await tempDir(prefix);
    provider = new LocalSandboxProvider({
      appsDir: join(tmp.path, 'apps'),
      templateDir,
      logger,
      isolation: needs('bwrap') ? 'bwrap' : 'none',
    });
  }, 120_000);
  afterAll(async () => {
    await provider?.stopAll();
    await tmp?.remove();
  });
  return () => provider!;
}
