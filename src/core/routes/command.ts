import { readImages } from '../build/images.ts';
import { helpCard } from '../chat/cards.ts';
import type { Command } from '../chat/commands.ts';
import type { ChatContext } from '../chat/context.ts';
import { UserError } from '../errors.ts';
import { createApp } from '../flows/create.ts';
import { resetData, showData } from '../flows/data.ts';
import { deleteApp } from '../flows/delete.ts';
import { exportApp } from '../flows/export.ts';
import { lookupApp, requireApp, requireOwnerOrManager } from '../flows/find-app.ts';
import { fix } from '../flows/fix.ts';
import { restore, showVersions, undo } from '../flows/history.ts';
import { gallery, mine } from '../flows/lists.ts';
import { remixApp } from '../flows/remix.ts';
import { retry } from '../flows/retry.ts';
import { showUsage } from '../flows/usage.ts';
import type { BotKit } from '../kit.ts';
import { admit } from '../limits/admit.ts';
import type { RequestKind } from '../limits/policy.ts';
import type { AppRecord } from '../ports/index.ts';

/** The request kind a command is admitted as (the policies' view of it). */
function kindOf(cmd: Command): RequestKind {
  if (cmd.kind === 'fix') return 'refine';
  if (cmd.kind === 'data-reset') return 'data';
  return cmd.kind as RequestKind;
}

/**
 * A `/vibe` command: the app it acts on read once (named, or the thread's), the policies, then
 * its flow. Inside an ordinary thread, a `/vibe` with or without words builds from the thread's discussion.
 */
export async function runCommand(kit: BotKit, c: ChatContext, parsed: Command): Promise<void> {
  const discussion = await discussionThread(kit, c, parsed);
  const cmd: Command = discussion ? { kind: 'create', prompt: parsed.kind === 'create' ? parsed.prompt : '' } : parsed;
  // Pictures first: one refused costs nothing (no policy counted, no message, no sandbox).
  const images = cmd.kind === 'create' ? await readImages(c.images) : [];
  const named = 'appId' in cmd ? cmd.appId : undefined;
  let app: AppRecord | undefined;
  if (cmd.kind !== 'invalid' && cmd.kind !== 'retry') {
    // A command in an app's thread acts on that app: the policies see which. (A discussion's
    // thread was just found to be no app's: not read again.)
    app = !discussion && (named || c.threadId) ? await lookupApp(kit.store, c, named) : undefined;
    await admit(kit, c, kindOf(cmd), app ?? named);
  }
  const need = (what: string) => requireApp(app, named, what);
  switch (cmd.kind) {
    case 'help':
      return void (await c.conv.ephemeral(helpCard(cmd.reason, c.usage)));
    case 'invalid':
      throw new UserError(cmd.message);
    case 'create':
      return createApp(kit, c, cmd.prompt, discussion, images);
    case 'remix':
      return remixApp(kit, c, need('remix'));
    case 'gallery':
      return gallery(kit, c, cmd.cursor);
    case 'mine':
      return mine(kit, c, cmd.cursor);
    case 'usage':
      return showUsage(kit, c);
    case 'versions':
      return showVersions(kit, c, need('versions'));
    case 'undo':
      return undo(kit, c, need('undo'));
    case 'fix':
      return fix(kit, c, need('fix'));
    case 'export':
      return exportApp(kit, c, need('export'));
    case 'restore':
      return restore(kit, c, need(`restore ${cmd.version}`), cmd.version);
    case 'delete':
      return deleteApp(kit, c, need('delete'), cmd.confirmed);
    case 'retry':
      return retry(kit, c, cmd.id);
    // shared state (flows/data.ts)
    case 'data':
      return showData(c, need('data'), kit.shared);
    case 'data-reset': {
      const target = need('data reset');
      requireOwnerOrManager(c, target, 'reset');
      return resetData(c, target, kit, cmd.confirmed);
    }
  }
}

/**
 * An ordinary thread (not an app's, not building one) that a `/vibe` or `/vibe <words>` came
 * from, where the platform can read threads: the discussion to build from. Undefined otherwise.
 */
async function discussionThread(kit: BotKit, c: ChatContext, cmd: Command): Promise<string | undefined> {
  const threadId = c.threadId;
  if (!threadId || !c.conv.history || !(cmd.kind === 'create' || (cmd.kind === 'help' && cmd.empty))) return undefined;
  if (kit.building.has(threadId)) throw new UserError('An app is already being built from this thread.');
  return (await kit.store.appForThread(threadId)) ? undefined : threadId;
}
