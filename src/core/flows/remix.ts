import { announceVersion } from '../build/announce.ts';
import { failure } from '../build/failure.ts';
import { journalBuild } from '../build/journal-build.ts';
import { publishVersion } from '../build/publish-version.ts';
import type { ChatContext } from '../chat/context.ts';
import { formatCheckError, truncate } from '../chat/cards.ts';
import { progressCard, queuedCard } from '../chat/status-cards.ts';
import { UserError } from '../errors.ts';
import type { BotKit } from '../kit.ts';
import type { AppRecord, CheckError, Lineage } from '../ports/index.ts';
import { zeroUsage } from '../limits/usage.ts';

/** What a remix needs of the bot: the store and runtime, and the tails every new version shares. */
type RemixKit = Pick<
  BotKit,
  | 'store'
  | 'runtime'
  | 'logger'
  | 'conversationFor'
  | 'status'
  | 'journal'
  | 'publisher'
  | 'screenshots'
  | 'background'
  | 'building'
>;

/**
 * Remix (the button, or `/vibe remix <id>`): a new app owned by the person who asked, in a new
 * thread of the channel they asked in, from the source's latest version: its files (nothing the
 * app's viewers saved), no model and no tokens. Opened in the browser like a restore (for its
 * screenshot; an error there is said, not refused), stored as version 1 with its lineage.
 * The caller has admitted it (tenancy, the person's limits, the channel's cap).
 */
export async function remixApp(kit: RemixKit, ctx: ChatContext, source: AppRecord): Promise<void> {
  const { store, runtime, logger } = kit;
  const from = await store.getVersion(source.id, source.latestVersion);
  if (!from) throw new UserError(`"${source.title}" has no version to remix yet.`);
  const lineage: Lineage = {
    appId: source.id,
    version: from.number,
    title: source.title,
    ownerId: source.ownerId,
    ...(source.ownerName ? { ownerName: source.ownerName } : {}),
  };
  // Pressed in a thread (or an unfurl), the remix still gets a thread of its own in the channel.
  const conv = kit.conversationFor(ctx.channelId) ?? ctx.conv;
  const what = `Remixing "${truncate(source.title, 60)}"`;
  const ref = await conv.post(queuedCard(what, 0));
  const threadId = await conv.startThread(ref, truncate(`${source.title} (remix)`, 80));
  const appId = runtime.newAppId();
  const status = kit.status(conv, ref);
  kit.building.add(threadId);
  const release = runtime.hold(appId);
  const untrack = await journalBuild(kit, ctx, { kind: 'remix', appId, status: ref, what, text: source.id });
  try {
    status.set(progressCard(what, { stage: 'starting' }));
    await runtime.boot(
      appId,
      undefined,
      { channel: ctx.channelId },
      {
        wait: true,
        onWait: () => status.set(progressCard(what, { stage: 'waiting' })),
      },
    );
    const refused = await runtime.write(appId, from.files);
    if (refused.length > 0)
      throw new UserError(`"${source.title}" cannot be remixed: ${formatCheckError(refused[0]!)}`);
    status.set(progressCard(what, { stage: 'rendering' }));
    const rendered = await runtime.render(appId);
    await store.createApp({
      id: appId,
      channelId: ctx.channelId,
      threadId,
      ownerId: ctx.actor.id,
      ...(ctx.actor.name ? { ownerName: ctx.actor.name } : {}),
      title: source.title,
      summary: source.summary,
      prompt: source.prompt,
      remixOf: lineage,
    });
    try {
      const version = await store.addVersion(appId, {
        files: from.files,
        instruction: `remix of "${source.title}" v${from.number}`,
        authorId: ctx.actor.id,
        usage: zeroUsage(),
        model: 'none',
        remixOf: lineage,
      });
      await store.setThread(threadId, appId);
      await publishVersion(kit, appId, version);
      const app = await runtime.record(appId, version.number);
      logger.info({ appId, from: source.id, version: from.number, by: ctx.actor.id }, 'app remixed');
      await status.finish(announceVersion(kit, app, version, remixNote(rendered?.errors), { rendered }));
    } catch (err) {
      await store
        .deleteApp(appId)
        .catch((e) => logger.error({ err: e, appId }, 'could not roll back a half-made remix'));
      throw err;
    }
  } catch (err) {
    await runtime
      .stop(appId)
      .catch((e) => logger.error({ err: e, appId }, 'could not stop the sandbox of a failed remix'));
    await status.finish(failure(logger, what, err));
  } finally {
    release();
    kit.building.delete(threadId);
    await untrack();
  }
}

/** Said under a remix's first card: it is yours now; and the browser's first error, if the copy has one. */
function remixNote(errors: CheckError[] | undefined): string {
  const broken = errors?.find((e) => !e.warning);
  const own = 'Your copy: reply in this thread to change it (the original stays as it is).';
  return broken ? `${own}\nIt fails when opened in a browser: ${formatCheckError(broken)}` : own;
}
