import { join } from 'node:path';
import type { CheckError, Logger } from '../core/ports/index.ts';
import type { AgentChannel } from './agent-channel.ts';
import { parseTscOutput } from './tsc-output.ts';

/** What a command run inside a local sandbox gave (its agent's `run`). */
export type RunResult = { code: number | null; signal: string | null; stdout: string; stderr: string };

const MAX_ERRORS = 500;
/** The agent's own deadlines (15 s to open the compiler, after a boot's warm-up; 15 s to check) and a margin. */
const WARM_TIMEOUT_MS = 35_000;
const MAX_TEXT = 4000;

/**
 * A local sandbox's type check: asked of the compiler its agent keeps warm
 * (sandbox-template/agent/type-check.mjs: tens of milliseconds after an edit), else the
 * command-line `tsc --noEmit` run inside the sandbox. Either way tsc runs in the sandbox,
 * where it can follow nothing but the app and the template; what comes out is checked here.
 */
export async function typeCheck(
  sandbox: { id: string; agent: AgentChannel },
  run: (argv: string[]) => Promise<RunResult>,
  root: string,
  logger: Logger,
): Promise<CheckError[]> {
  const answer = await sandbox.agent
    .request<unknown>('typecheck', {}, { timeoutMs: WARM_TIMEOUT_MS })
    .catch((err: Error) => ({ fallback: err.message }));
  const warm = warmErrors(answer);
  if (warm) return warm;
  logger.warn(
    {
      sandboxId: sandbox.id,
      why: String((answer as { fallback?: unknown })?.fallback ?? 'malformed answer').slice(0, 300),
    },
    'the warm type check is unavailable; running tsc',
  );
  const tsc = await run(tscArgv(root));
  if (tsc.signal)
    throw new Error(`tsc was stopped (${tsc.signal}) in sandbox ${sandbox.id}: ${tsc.stderr.slice(0, 300)}`);
  const errors = tsc.code === 0 ? [] : parseTscOutput(`${tsc.stdout}\n${tsc.stderr}`, root);
  if (tsc.code !== 0 && errors.length === 0)
    throw new Error(`tsc failed without diagnostics (exit ${tsc.code}): ${tsc.stderr.slice(0, 300)}`);
  return errors;
}

/** The command-line type check of the app at `root` (as the sandbox sees it). */
export function tscArgv(root: string): string[] {
  return [
    process.execPath,
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '--noEmit',
    '--pretty',
    'false',
    '-p',
    root,
  ];
}

const count = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 1e9;

/** The agent's `{ errors }`, each field checked and capped (it comes out of the sandbox); undefined otherwise. */
export function warmErrors(answer: unknown): CheckError[] | undefined {
  const errors = (answer as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return undefined;
  const out: CheckError[] = [];
  for (const e of errors.slice(0, MAX_ERRORS) as Record<string, unknown>[]) {
    if (typeof e?.file !== 'string' || typeof e.message !== 'string' || !count(e.line) || !count(e.column))
      return undefined;
    out.push({ file: e.file.slice(0, 500), line: e.line, column: e.column, message: e.message.slice(0, MAX_TEXT) });
  }
  return out;
}
