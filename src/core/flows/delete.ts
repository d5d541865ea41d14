import { confirmDeleteCard } from '../chat/cards.ts';
import type { ChatContext } from '../chat/context.ts';
import { UserError } from '../errors.ts';
import type { BotKit } from '../kit.ts';
import type { AppRecord } from '../ports/index.ts';

/** Delete, by its owner only, once confirmed: the record first, then its sandbox and shared state. */
export async function deleteApp(
  kit: Pick<BotKit, 'store' | 'runtime' | 'shared' | 'logger' | 'line'>,
  ctx: ChatContext,
  app: AppRecord,
  confirmed: boolean,
): Promise<void> {
  if (ctx.actor.id !== app.ownerId)
    throw new UserError(`Only the app's owner (${app.ownerName ?? app.ownerId}) can delete it.`);
  if (!confirmed) return void (await ctx.conv.ephemeral(confirmDeleteCard(app)));
  await kit.line.run(app.id, async () => {
    // Deleted first: a visit from here on cannot wake it again, and a wake under way checks again before serving.
    await kit.store.deleteApp(app.id);
    await kit.runtime.stop(app.id);
    // Its shared state goes with it (open pages are closed).
    await kit.shared
      ?.remove(app.id)
      .catch((err: unknown) =>
        kit.logger.warn({ err, appId: app.id }, 'the shared data of a deleted app was not removed'),
      );
  });
  kit.logger.info({ appId: app.id, by: ctx.actor.id }, 'app deleted');
  await ctx.conv.reply(app.threadId, { title: `Deleted "${app.title}"`, text: 'Its link no longer works.' });
}
