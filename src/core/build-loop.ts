import type { Stage } from './cards.ts';
import { formatCheckError } from './check-errors.ts';
import { addUsage } from './usage.ts';
import type { CheckError, CodeTurn, FileMap, ProgressListener, TokenUsage } from './ports.ts';

export const MAX_REPAIR_ROUNDS = 2;

export interface BuildResult {
  turn: CodeTurn;
  /** Empty when the code is clean. */
  errors: CheckError[];
  usage: TokenUsage;
  repairRounds: number;
}

/**
 * Writes the model's files into the sandbox, checks them, and sends errors back to the model
 * for at most MAX_REPAIR_ROUNDS rounds. Returns the last turn and its remaining errors.
 */
export async function writeCheckRepair(opts: {
  first: CodeTurn;
  /** The app's sandbox, by app (the runtime's write and check). */
  target: { write(files: FileMap): Promise<CheckError[]>; check(): Promise<CheckError[]> };
  onStage: (s: Stage) => void;
  onProgress: ProgressListener;
}): Promise<BuildResult> {
  let turn = opts.first;
  let usage = turn.usage;
  for (let round = 0; ; round++) {
    opts.onStage({ stage: 'checking' });
    // Files a build tool would follow outside src/ are refused before they are written.
    const refused = await opts.target.write(turn.files);
    const errors = refused.length > 0 ? refused : await opts.target.check();
    if (errors.length === 0 || round === MAX_REPAIR_ROUNDS) return { turn, errors, usage, repairRounds: round };
    opts.onStage({
      stage: 'repairing',
      round: round + 1,
      of: MAX_REPAIR_ROUNDS,
      firstError: formatCheckError(errors[0]!),
    });
    turn = await turn.repair(errors, opts.onProgress);
    usage = addUsage(usage, turn.usage);
  }
}
