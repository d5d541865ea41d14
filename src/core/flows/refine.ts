import { announceVersion } from '../build/announce.ts';
import { failure, stillFailing } from '../build/failure.ts';
import { journalBuild } from '../build/journal-build.ts';
import { runBuild, type BuildKit } from '../build/pipeline.ts';
import { publishVersion } from '../build/publish-version.ts';
import { settledAll } from '../build/settled-all.ts';
import { withImageNote } from '../build/images.ts';
import { truncate } from '../chat/cards.ts';
import { failureCard, queuedCard } from '../chat/status-cards.ts';
import type { ChatContext } from '../chat/context.ts';
import { StaleVersionError, UserError } from '../errors.ts';
import type { BotKit } from '../kit.ts';
import type { ModelImage } from '../ports/images.ts';
import type { AppRecord, ChangeRequest, VersionRecord } from '../ports/index.ts';
import { readThread } from './thread-spec.ts';
import { changeLabel } from './viewer-errors.ts';

type RefineKit = BuildKit & Pick<BotKit, 'line'>;

/**
 * A change to the app, in its line (one at a time, in order). The app is read once there (it
 * may have changed while the change waited) and passed down; version N+1 is stored only on top
 * of the version the change was made from. `thread`: the request carries the thread's earlier
 * messages since that version.
 */
export async function refineApp(
  kit: RefineKit,
  ctx: ChatContext,
  app: AppRecord,
  change: ChangeRequest,
  opts: { thread?: boolean; images?: ModelImage[] } = {},
): Promise<void> {
  const images = opts.images ?? [];
  const instruction = changeLabel(change);
  const what = `Changing: "${truncate(instruction, 60)}"`;
  kit.line.refuseIfFull(app.id, 'refine');
  // Join the line before posting, so concurrent replies see their true place in it.
  const posted = ctx.conv.reply(app.threadId, queuedCard(what, kit.line.depth(app.id)));
  posted.catch(() => undefined); // awaited in the task; this only marks it handled while queued
  await kit.line.run(app.id, async () => {
    const { runtime, model, store, logger } = kit;
    const ref = await posted;
    const status = kit.status(ctx.conv, ref);
    const release = runtime.hold(app.id);
    const untrack = await journalBuild(kit, ctx, {
      kind: 'refine',
      appId: app.id,
      threadId: app.threadId,
      status: ref,
      what,
      text: instruction,
      ...(change.kind === 'fix' ? { report: change.report } : {}),
    });
    let working: VersionRecord | undefined;
    try {
      const fresh = await store.getApp(app.id);
      if (!fresh || fresh.deleted) throw new UserError('This app was deleted.');
      const current = await store.getVersion(app.id, fresh.latestVersion);
      if (!current) throw new Error(`app ${app.id} lacks version ${fresh.latestVersion}`);
      working = current;
      const window = { since: current.createdAt, before: ctx.messageId };
      const thread = opts.thread ? await readThread(ctx.conv, app.threadId, window, logger) : undefined;
      const { built } = await runBuild(
        kit,
        { appId: app.id, kind: 'refine', ctx, what, status },
        (onWait) => runtime.ensure(app.id, { wait: true, onWait, app: fresh, version: current }),
        (onProgress, signal) => model.refine(current.files, change, onProgress, signal, thread, images),
      );
      if (built.errors.length > 0) {
        const refused = await runtime.write(app.id, current.files); // put the working version back
        if (refused.length > 0) logger.warn({ appId: app.id, refused }, 'the stored version was refused on write-back');
        await status.finish(
          failureCard(
            what,
            `${stillFailing(built.errors, 'The change')}, so it was not applied; the app is unchanged at v${current.number}. Last errors:`,
            built.errors,
          ),
        );
        return;
      }
      // Compare-and-set: only on top of the version this change was made from.
      const version = await store.addVersion(
        app.id,
        {
          files: built.turn.files,
          instruction: withImageNote(instruction, images),
          authorId: ctx.actor.id,
          usage: built.usage,
          model: model.label,
        },
        { expectLatest: current.number },
      );
      runtime.synced(app.id, version.number);
      working = undefined; // stored: it is the working version now, whatever fails next
      const [updated] = await settledAll([
        built.turn.title
          ? store.updateApp(app.id, { title: built.turn.title, summary: built.turn.summary ?? fresh.summary })
          : Promise.resolve(fresh),
        publishVersion(kit, app.id, version),
      ] as const);
      logger.info(
        { appId: app.id, version: version.number, repairRounds: built.repairRounds, usage: built.usage },
        'app refined',
      );
      await status.finish(announceVersion(kit, updated, version, built.turn.message, built));
    } catch (err) {
      if (err instanceof StaleVersionError) {
        // Another process's change landed first (its lease ran out mid-change): the sandbox
        // gets the store's newest version, and the person an honest answer.
        working = (await store.getVersion(app.id, err.latest).catch(() => undefined)) ?? working;
        err = new UserError(
          `Another change to this app landed while this one was being made (it is at v${err.latest} now), so this one was not applied. Send it again to apply it on top.`,
        );
      }
      // Whatever the sandbox holds now was never stored: viewers get the working version back.
      if (working && runtime.isRunning(app.id))
        await runtime
          .write(app.id, working.files)
          .catch((e) => logger.error({ err: e, appId: app.id }, 'could not put the working version back'));
      await status.finish(failure(logger, what, err));
    } finally {
      release();
      await untrack();
    }
  });
}
