import type { Stage } from '../chat/status-cards.ts';
import { formatCheckError } from './check-errors.ts';
import { addUsage } from '../limits/usage.ts';
import type { CheckError, CodeTurn, FileMap, ProgressListener, RenderResult, TokenUsage } from '../ports/index.ts';

export const MAX_REPAIR_ROUNDS = 2;

export interface BuildResult {
  turn: CodeTurn;
  /** Empty when the code is clean. */
  errors: CheckError[];
  usage: TokenUsage;
  repairRounds: number;
  /** The clean page load (its screenshot goes with the card); undefined when no browser checked it. */
  rendered?: RenderResult;
  /** Warnings still there after the last round (the version is posted, and says so). */
  warnings?: CheckError[];
}

/**
 * Writes the model's files into the sandbox, checks them (types and imports, and beside that a
 * page load of their production build in a browser when there is one), and sends errors back to the model for at most
 * MAX_REPAIR_ROUNDS rounds. Returns the last turn and its remaining errors.
 */
export async function writeCheckRepair(opts: {
  first: CodeTurn;
  /** The app's sandbox, by app (the runtime's write and check). */
  target: {
    write(files: FileMap): Promise<CheckError[]>;
    check(): Promise<CheckError[]>;
    /** Loads the app in a browser; undefined when the bot has none. */
    render(): Promise<RenderResult | undefined>;
  };
  onStage: (s: Stage) => void;
  onProgress: ProgressListener;
}): Promise<BuildResult> {
  let turn = opts.first;
  let usage = turn.usage;
  for (let round = 0; ; round++) {
    opts.onStage({ stage: 'checking' });
    // Files a build tool would follow outside src/ are refused before they are written.
    const refused = await opts.target.write(turn.files);
    let errors = refused;
    let rendered: RenderResult | undefined;
    if (refused.length === 0) {
      // The type check and the browser's look at the production build run side by side; the
      // type check's errors come first (a page built from code that does not type-check is moot).
      const rendering = settle(opts.target.render());
      errors = await opts.target.check().catch(async (err: unknown) => {
        await rendering;
        throw err;
      });
      if (errors.length === 0) opts.onStage({ stage: 'rendering' });
      const page = await rendering;
      if (errors.length === 0) {
        if ('failed' in page) throw page.failed;
        rendered = page.result;
        errors = rendered?.errors ?? [];
      }
    }
    // Out of rounds with only warnings left (console errors): the app works; post it, with them.
    const warnings = round === MAX_REPAIR_ROUNDS && errors.length > 0 && errors.every((e) => e.warning) ? errors : [];
    if (warnings.length > 0) errors = [];
    if (errors.length === 0 || round === MAX_REPAIR_ROUNDS)
      return {
        turn,
        errors,
        usage,
        repairRounds: round,
        ...(errors.length === 0 && rendered ? { rendered } : {}),
        ...(warnings.length > 0 ? { warnings } : {}),
      };
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

/** A promise that never rejects: its result, or what it failed with. */
function settle<T>(p: Promise<T>): Promise<{ result: T } | { failed: unknown }> {
  return p.then(
    (result) => ({ result }),
    (failed: unknown) => ({ failed }),
  );
}
