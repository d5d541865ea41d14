import { parseRestoreValue } from '../chat/actions.ts';
import type { ChatContext } from '../chat/context.ts';
import { UserError } from '../errors.ts';
import { resetData } from '../flows/data.ts';
import { deleteApp } from '../flows/delete.ts';
import { exportApp } from '../flows/export.ts';
import { lookupApp, requireApp, requireOwnerOrManager } from '../flows/find-app.ts';
import { fix } from '../flows/fix.ts';
import { restore, showVersions, undo } from '../flows/history.ts';
import { gallery, mine } from '../flows/lists.ts';
import { remixApp } from '../flows/remix.ts';
import { retry } from '../flows/retry.ts';
import type { BotKit } from '../kit.ts';
import { admit } from '../limits/admit.ts';
import type { RequestKind } from '../limits/policy.ts';
import type { ButtonAction } from '../ports/index.ts';

/** The request kind of each button. */
const ACTION_KINDS: Record<ButtonAction, RequestKind> = {
  gallery: 'gallery',
  mine: 'mine',
  restore: 'restore',
  undo: 'undo',
  versions: 'versions',
  delete: 'delete',
  'delete-confirm': 'delete',
  fix: 'refine',
  export: 'export',
  retry: 'create', // admitted as what it runs again (see flows/retry.ts)
  remix: 'remix',
  home: 'mine', // the adapter pages the home itself (see VibeBot.home); here only as a stray press
  'data-reset': 'data',
  'data-reset-confirm': 'data',
};

/** A button press: `action` and `value` come from a card's actions (see chat/actions.ts). */
export async function runButton(kit: BotKit, c: ChatContext, action: string, value: string): Promise<void> {
  if (action === 'retry') return retry(kit, c, value); // admitted as what it runs again
  const kind = ACTION_KINDS[action as ButtonAction] ?? 'help';
  if (action === 'gallery' || action === 'mine') {
    await admit(kit, c, kind);
    return action === 'gallery' ? gallery(kit, c, value || undefined) : mine(kit, c, value || undefined);
  }
  // The app it acts on, read once: the policies and the flow get the same record.
  const appId =
    action === 'restore' ? parseRestoreValue(value).appId : action === 'fix' ? (value.split(':')[0] ?? '') : value;
  const found = await lookupApp(kit.store, c, appId || undefined);
  await admit(kit, c, kind, found ?? value.split(':')[0]);
  const app = requireApp(found, appId || undefined, action);
  switch (action) {
    case 'restore':
      return restore(kit, c, app, parseRestoreValue(value).version);
    case 'fix':
      return fix(kit, c, app, value.split(':')[1]);
    case 'undo':
      return undo(kit, c, app);
    case 'versions':
      return showVersions(kit, c, app);
    case 'export':
      return exportApp(kit, c, app);
    case 'delete':
      return deleteApp(kit, c, app, false);
    case 'delete-confirm':
      return deleteApp(kit, c, app, true);
    case 'remix':
      return remixApp(kit, c, app);
    case 'data-reset': // shared state (flows/data.ts)
    case 'data-reset-confirm':
      requireOwnerOrManager(c, app, 'reset');
      return resetData(c, app, kit, action === 'data-reset-confirm');
    default:
      throw new UserError(`Unknown button "${action}".`);
  }
}
