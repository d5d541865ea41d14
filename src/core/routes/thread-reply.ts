import { PICTURE_ONLY_CHANGE, readImages } from '../build/images.ts';
import { checkInstruction, parseCommand } from '../chat/commands.ts';
import type { ChatContext } from '../chat/context.ts';
import { UserError } from '../errors.ts';
import { refineApp } from '../flows/refine.ts';
import type { BotKit } from '../kit.ts';
import { admit } from '../limits/admit.ts';
import { runCommand } from './command.ts';

/** Said to a mention in a thread that is not an app's. */
const MENTION_HINT =
  "This thread is not an app's. Mention me in a channel to build an app, or in an app's thread to change it.";

/** A human message in a thread: refines the thread's app (read once, here); threads that are not apps' are ignored. */
export async function threadReply(kit: BotKit, c: ChatContext, text: string): Promise<void> {
  const threadId = c.threadId;
  if (!threadId) return;
  const trimmed = text.trim() || (c.images?.length ? PICTURE_ONLY_CHANGE : '');
  if (/^\/vibe(\s|$)/.test(trimmed)) return runCommand(kit, c, parseCommand(trimmed.slice('/vibe'.length)));
  if (kit.building.has(threadId)) {
    await c.conv.reply(threadId, { text: 'Still building the first version; reply again once the link is here.' });
    return;
  }
  const app = await kit.store.appForThread(threadId);
  if (!app || app.deleted) {
    // Not an app's thread: stay quiet, unless the bot was named.
    if (c.mentioned) throw new UserError(MENTION_HINT);
    return;
  }
  const bad = checkInstruction(trimmed);
  if (bad) throw new UserError(bad);
  const images = await readImages(c.images);
  await admit(kit, c, 'refine', app);
  await refineApp(kit, c, app, { kind: 'change', instruction: trimmed }, { thread: true, images });
}
