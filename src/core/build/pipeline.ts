import { BuildProgress } from '../chat/build-progress.ts';
import type { Stage } from '../chat/status-cards.ts';
import { slotWaitCard } from '../chat/status-cards.ts';
import type { ChatContext } from '../chat/context.ts';
import type { StatusMessage } from '../chat/status-message.ts';
import { workspaceOf } from '../ids.ts';
import type { BotKit } from '../kit.ts';
import { Spending } from '../limits/spending.ts';
import type { BotMetrics, CodeTurn, FileMap, ModelProgress } from '../ports/index.ts';
import { LiveWriter } from './live-writer.ts';
import { writeCheckRepair, type BuildResult } from './build-loop.ts';

/** What the pipeline needs of the bot. */
type PipelineKit = Pick<BotKit, 'runtime' | 'model' | 'slots' | 'meter' | 'logger' | 'metrics' | 'limits'>;

/** What a flow that builds a version with the model needs: the pipeline, and the tails before and after it. */
export type BuildKit = PipelineKit &
  Pick<BotKit, 'store' | 'journal' | 'publisher' | 'screenshots' | 'background' | 'status'>;

/** One build: which app, why, and for whom. */
export interface BuildJob {
  appId: string;
  kind: 'create' | 'refine';
  ctx: ChatContext;
  /** What the status message says is being built. */
  what: string;
  status: StatusMessage;
}

/**
 * The shape every code-writing turn shares (create and refine): a build slot first; then the
 * sandbox (booted or woken) and the model start together, so the sandbox is warm when the code
 * arrives; then the write, check and repair loop. Every model request's usage is counted as it
 * ends, and one `build usage` log line closes every build. The caller holds the app throughout.
 */
export async function runBuild(
  kit: PipelineKit,
  job: BuildJob,
  startSandbox: (onWait: () => void) => Promise<unknown>,
  ask: (onProgress: (p: ModelProgress) => void, signal: AbortSignal) => Promise<CodeTurn>,
): Promise<{ first: CodeTurn; built: BuildResult }> {
  const { runtime, model, logger } = kit;
  const { appId, ctx, what, status } = job;
  // A slot first: neither the model nor a sandbox starts for a build that waits its turn.
  const release = await kit.slots.acquire(ctx.actor.id, (place) =>
    status.set(slotWaitCard(what, place, kit.limits?.maxConcurrentBuilds)),
  );
  const started = Date.now();
  const spending = new Spending(kit.meter, { userId: ctx.actor.id, channelId: ctx.channelId }, model.label, (err) =>
    logger.warn({ err, appId }, 'spending could not be counted'),
  );
  const progress = new BuildProgress(status, what, ctx.conv, logger);
  let sandboxReady = false;
  // A new app's live view shows it taking shape while the model writes (not a check). Only a
  // create's: a live app's sandbox may serve viewers itself (a Modal tunnel link), and they
  // must not get half-made changes; its creator's view shows the change once it is written.
  const watched = job.kind === 'create';
  let latest: FileMap | undefined;
  // Once the model's request that wrote `latest` has ended and the live writer has written it,
  // its checks begin while the model finishes its turn (its closing words, or more edits).
  // (Asked again for the same files, the runtime begins nothing twice.)
  let written: FileMap | undefined;
  let requestEnded = false;
  const prepare = () => {
    if (requestEnded && latest && written === latest) runtime.prepare(appId);
  };
  const live = new LiveWriter(async (files) => {
    const refused = await runtime.write(appId, files);
    if (refused.length > 0) return;
    written = files;
    prepare();
  }, logger);
  const onProgress = (p: ModelProgress): void => {
    if (p.kind === 'file') progress.stage({ stage: 'writing', files: p.files } satisfies Stage);
    if (p.kind === 'file' && p.snapshot && watched) {
      latest = p.snapshot;
      requestEnded = false;
      if (sandboxReady) live.push(latest);
    }
    if (p.kind === 'narration') progress.narrate(p.text);
    if (p.kind === 'usage') {
      spending.add(p.usage);
      kit.metrics?.tokensUsed(p.usage);
      requestEnded = true;
      prepare();
    }
  };
  let outcome: 'live' | 'failed' | 'error' = 'error';
  const abort = new AbortController();
  progress.stage({ stage: 'writing', files: [] });
  const starting = startSandbox(() => progress.stage({ stage: 'waiting' })).then(() => {
    sandboxReady = true;
    if (!watched) return;
    progress.watch(runtime.link({ id: appId }).creator);
    if (latest) live.push(latest);
  });
  starting.catch(() => abort.abort()); // no sandbox: stop paying for tokens
  try {
    const first = await ask(onProgress, abort.signal)
      .catch(async (err) => {
        await starting; // a failed start explains the abort
        throw err;
      })
      .finally(() => live.close()); // the model's turn is written whole next, and checked
    if (!sandboxReady) progress.stage({ stage: 'starting' });
    await starting;
    const built = await writeCheckRepair({
      first,
      target: {
        write: (files) => runtime.write(appId, files),
        check: () => timed(kit.metrics, 'typecheck', () => runtime.check(appId)),
        render: () => timed(kit.metrics, 'browser', () => runtime.render(appId)),
      },
      onStage: (s) => progress.stage(s),
      onProgress,
    });
    outcome = built.errors.length > 0 ? 'failed' : 'live';
    return { first, built };
  } catch (err) {
    abort.abort();
    throw err;
  } finally {
    release();
    await progress.end(outcome === 'live'); // the stream ends before the final card lands
    await spending.settled();
    kit.metrics?.buildFinished(job.kind, outcome, (Date.now() - started) / 1000);
    // One line per build, whatever became of it: what it cost, and for whom.
    logger.info(
      {
        build: {
          kind: job.kind,
          appId,
          userId: ctx.actor.id,
          channelId: ctx.channelId,
          team: workspaceOf(ctx.channelId),
          outcome,
          ms: Date.now() - started,
          model: model.label,
          usage: spending.total,
          tokensByModel: spending.byModel,
          costUsd: spending.costUsd,
        },
      },
      'build usage',
    );
  }
}

/** Runs one check of a build, reporting how long it took. */
async function timed<T>(
  metrics: BotMetrics | undefined,
  check: 'typecheck' | 'browser',
  run: () => Promise<T>,
): Promise<T> {
  const t0 = Date.now();
  try {
    return await run();
  } finally {
    metrics?.checkFinished(check, (Date.now() - t0) / 1000);
  }
}
