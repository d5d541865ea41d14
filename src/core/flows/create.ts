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
import { UserError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { BotKit } from '../kit.ts';
import type { ModelImage } from '../ports/images.ts';
import { readThread } from './thread-spec.ts';

type CreateKit = BuildKit & Pick<BotKit, 'building'>;

/**
 * A new app from `prompt`; `discussion`: the ordinary thread it is built from (its card goes
 * there, not into a new thread). Nothing is stored until it is clean: then the app, version 1,
 * the thread's mapping, the published build and the sandbox serving it, in that order.
 */
export async function createApp(
  kit: CreateKit,
  ctx: ChatContext,
  prompt: string,
  discussion?: string,
  images: ModelImage[] = [],
): Promise<void> {
  const { runtime, model, store, logger } = kit;
  const thread = discussion ? await readThread(ctx.conv, discussion, { before: ctx.messageId }, logger) : undefined;
  if (thread?.length === 0 && !prompt)
    throw new UserError('There is nothing in this thread to build from yet: say what the app should do first.');
  const what = discussion
    ? `Building from this thread${prompt ? `: "${truncate(prompt, 50)}"` : ''}`
    : `Building "${truncate(prompt, 60)}"`;
  const ref = discussion
    ? await ctx.conv.reply(discussion, queuedCard(what, 0))
    : await ctx.conv.post(queuedCard(what, 0));
  const threadId = discussion ?? (await ctx.conv.startThread(ref, truncate(prompt, 80)));
  // A warm sandbox only for a build that starts now: one waiting its turn must not hold it meanwhile.
  const appId = kit.slots.startsNow ? runtime.newAppId() : newId();
  const status = kit.status(ctx.conv, ref);
  kit.building.add(threadId);
  // Held from boot to the last write: never stopped for room while the model is still writing.
  const release = runtime.hold(appId);
  const untrack = await journalBuild(kit, ctx, {
    kind: 'create',
    appId,
    status: ref,
    what,
    text: prompt,
    ...(discussion ? { threadId: discussion } : {}),
  });
  try {
    const { first, built } = await runBuild(
      kit,
      { appId, kind: 'create', ctx, what, status },
      (onWait) => runtime.boot(appId, undefined, { channel: ctx.channelId }, { wait: true, onWait }),
      (onProgress, signal) => model.generate(prompt, onProgress, signal, thread, images),
    );
    if (built.errors.length > 0) {
      await runtime.stop(appId);
      await status.finish(
        failureCard(
          what,
          `${stillFailing(built.errors)}, so there is no link. Nothing was saved; try rephrasing the prompt. Last errors:`,
          built.errors,
        ),
      );
      return;
    }
    const title =
      built.turn.title?.trim() || first.title?.trim() || truncate(prompt || thread?.at(-1)?.text || 'Untitled app', 40);
    const summary = built.turn.summary?.trim() || first.summary?.trim() || '';
    await store.createApp({
      id: appId,
      channelId: ctx.channelId,
      threadId,
      ownerId: ctx.actor.id,
      ownerName: ctx.actor.name,
      title,
      summary,
      prompt: withImageNote(prompt || `(built from the thread's discussion)`, images),
    });
    try {
      const version = await store.addVersion(appId, {
        files: built.turn.files,
        instruction: withImageNote(prompt, images),
        authorId: ctx.actor.id,
        usage: built.usage,
        model: model.label,
      });
      // Only now is the thread the app's: a create that dies before its first version leaves no
      // mapping. The two are independent (each its own keys): side by side, both finished before
      // a failure of either rolls the app back; the version is published once both stand.
      const [app] = await settledAll([
        runtime.record(appId, version.number),
        store.setThread(threadId, appId),
      ] as const);
      await publishVersion(kit, appId, version);
      logger.info(
        { appId, version: version.number, repairRounds: built.repairRounds, usage: built.usage },
        'app created',
      );
      await status.finish(announceVersion(kit, app, version, built.turn.message ?? first.message, built));
    } catch (err) {
      await store
        .deleteApp(appId)
        .catch((e) => logger.error({ err: e, appId }, 'could not roll back a half-created app'));
      throw err;
    }
  } catch (err) {
    await runtime
      .stop(appId)
      .catch((e) => logger.error({ err: e, appId }, 'could not stop the sandbox of a failed create'));
    await status.finish(failure(logger, what, err));
  } finally {
    release();
    kit.building.delete(threadId);
    await untrack();
  }
}
