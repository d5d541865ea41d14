import type { ChatContext } from '../chat/context.ts';
import { confirmDataResetCard, dataCard, dataResetCard } from '../chat/data-cards.ts';
import { UserError } from '../errors.ts';
import type { AppRecord, Logger } from '../ports/index.ts';
import type { SharedData } from '../ports/shared.ts';

// `/vibe data` and `/vibe data reset`: an app's shared state (`@vibe/shared`) seen and cleared
// from chat. Undo and restore never touch it; delete removes it (see VibeBot.delete).

function need(shared: SharedData | undefined): SharedData {
  if (!shared) throw new UserError('This bot keeps no shared data for apps.');
  return shared;
}

/** Its size and items, to the person who asked. */
export async function showData(ctx: ChatContext, app: AppRecord, shared: SharedData | undefined): Promise<void> {
  await ctx.conv.ephemeral(dataCard(app, await need(shared).stats(app.id)));
}

/**
 * Clears it once confirmed (the caller checked the asker is the owner or a manager); the app's
 * thread is told, since everyone using it loses what they stored.
 */
export async function resetData(
  ctx: ChatContext,
  app: AppRecord,
  deps: { shared?: SharedData; logger: Logger },
  confirmed: boolean,
): Promise<void> {
  const shared = need(deps.shared);
  if (!confirmed) return void (await ctx.conv.ephemeral(confirmDataResetCard(app)));
  await shared.reset(app.id);
  deps.logger.info({ appId: app.id, by: ctx.actor.id }, 'shared data reset');
  await ctx.conv.reply(app.threadId, dataResetCard(app));
}
