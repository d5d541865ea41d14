import { viewerErrorCard } from '../chat/cards.ts';
import type { ChatContext } from '../chat/context.ts';
import { UserError } from '../errors.ts';
import type { BotKit } from '../kit.ts';
import type { AppRecord } from '../ports/index.ts';
import { refineApp } from './refine.ts';
import { fixRequest, readViewerError, type ViewerErrorReport } from './viewer-errors.ts';

/**
 * "Fix it" (the noted error `noteId`) or `/vibe fix` (the latest noted one): a refinement, open
 * to anyone a thread reply is, from an error the thread was shown.
 */
export async function fix(
  kit: Parameters<typeof refineApp>[0] & Pick<BotKit, 'viewerErrors'>,
  ctx: ChatContext,
  app: AppRecord,
  noteId?: string,
): Promise<void> {
  const error = kit.viewerErrors.take(app.id, app.latestVersion, noteId);
  if (!error)
    throw new UserError(
      `No error from a viewer of v${app.latestVersion} is waiting to be fixed (a fix may already be under way, or the bot restarted since). If it happens again, a new note comes with its own Fix it.`,
    );
  await refineApp(kit, ctx, app, fixRequest(error));
}

/**
 * An uncaught error a viewer's browser hit in the app (from the gateway: bounded, but anyone's
 * words). One note per distinct error per app version, in the app's thread, with "Fix it";
 * nothing for unknown or deleted apps, or while a change to the app is under way (its own
 * checks see its errors, and a creator's live view may show a half-written state).
 */
export async function noteViewerError(
  kit: Pick<BotKit, 'store' | 'logger' | 'line' | 'viewerErrors' | 'conversationFor'>,
  appId: string,
  report: ViewerErrorReport,
): Promise<void> {
  const error = readViewerError(report, appId);
  if (!error || kit.line.depth(appId) > 0) return;
  const app = await kit.store.getApp(appId);
  if (!app || app.deleted || app.latestVersion === 0) return;
  if (!kit.viewerErrors.record(app.id, app.latestVersion, error)) return;
  const conv = kit.conversationFor(app.channelId);
  if (!conv) {
    // Said once per error and version: the chats connected do not change while the bot runs.
    kit.logger.warn({ appId, channelId: app.channelId }, 'no chat connected for the channel of a viewer error');
    return;
  }
  try {
    await conv.reply(app.threadId, viewerErrorCard(app, error));
  } catch (err) {
    kit.viewerErrors.unnote(app.id, error);
    throw err;
  }
  kit.logger.info({ appId, version: app.latestVersion }, 'viewer error noted');
}
