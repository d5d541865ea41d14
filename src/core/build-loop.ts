import { formatCheckError, type Stage } from './cards.ts';
import type { CheckError, CodeTurn, ProgressListener, SandboxProvider, TokenUsage } from './ports.ts';

export const MAX_REPAIR_ROUNDS = 2;

export interface BuildResult {
  turn: CodeTurn;
  /** Empty when the code is clean. */
  errors: CheckError[];
  usage: TokenUsage;
  repairRounds: number;
}

export function zeroUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
  };
}

/** The check errors as the model sees them in a repair round. */
export function errorsForModel(errors: CheckError[]): string {
  const shown = errors.slice(0, 20).map(formatCheckError);
  const more = errors.length > shown.length ? `\n(and ${errors.length - shown.length} more)` : '';
  return `The app does not compile. Fix these errors with minimal edits (str_replace), then stop:\n${shown.join('\n')}${more}`;
}

/**
 * Writes the model's files into the sandbox, checks them, and sends errors back to the model
 * for at most MAX_REPAIR_ROUNDS rounds. Returns the last turn and its remaining errors.
 */
export async function writeCheckRepair(opts: {
  first: CodeTurn;
  sandbox: SandboxProvider;
  sandboxId: string;
  onStage: (s: Stage) => void;
  onProgress: ProgressListener;
}): Promise<BuildResult> {
  let turn = opts.first;
  let usage = turn.usage;
  for (let round = 0; ; round++) {
    opts.onStage({ stage: 'checking' });
    // Files a build tool would follow outside src/ are refused before they are written.
    const refused = await opts.sandbox.write(opts.sandboxId, turn.files);
    const errors = refused.length > 0 ? refused : await opts.sandbox.check(opts.sandboxId);
    if (errors.length === 0 || round === MAX_REPAIR_ROUNDS) return { turn, errors, usage, repairRounds: round };
    opts.onStage({ stage: 'repairing', round: round + 1, of: MAX_REPAIR_ROUNDS, firstError: formatCheckError(errors[0]!) });
    turn = await turn.repair(errorsForModel(errors), opts.onProgress);
    usage = addUsage(usage, turn.usage);
  }
}
