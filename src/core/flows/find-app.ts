import type { ChatContext } from '../chat/context.ts';
import { UserError } from '../errors.ts';
import type { AppRecord, AppStore } from '../ports/index.ts';

/** The app a request names (`appId`), or else the app of the thread it came from: one read. */
export async function lookupApp(
  store: Pick<AppStore, 'getApp' | 'appForThread'>,
  ctx: ChatContext,
  appId: string | undefined,
): Promise<AppRecord | undefined> {
  if (appId) return store.getApp(appId);
  return ctx.threadId ? store.appForThread(ctx.threadId) : undefined;
}

/** `app` as looked up for `/vibe <what>`, or the UserError that says why there is none. */
export function requireApp(app: AppRecord | undefined, appId: string | undefined, what: string): AppRecord {
  if (!app && !appId) throw new UserError(`Use \`/vibe ${what}\` in an app's thread, or add the app's id.`);
  if (!app || app.deleted) throw new UserError(`There is no app "${appId ?? ''}" (it may have been deleted).`);
  return app;
}

/** Looks the app up and requires it. */
export async function resolveApp(
  store: Pick<AppStore, 'getApp' | 'appForThread'>,
  ctx: ChatContext,
  appId: string | undefined,
  what: string,
): Promise<AppRecord> {
  return requireApp(await lookupApp(store, ctx, appId), appId, what);
}

/** Owner, or a manager where the app lives, or a UserError naming who may. */
export function requireOwnerOrManager(ctx: ChatContext, app: AppRecord, what: string): void {
  // Manager rights are the ones held where the app lives: the platform tells them for the
  // channel the request came from, so they count only there (or in the app's thread).
  if (ctx.actor.id === app.ownerId || (ctx.actor.isManager && ctx.channelId === app.channelId)) return;
  throw new UserError(
    `Only the app's owner (${app.ownerName ?? app.ownerId}) or a channel manager can ${what.split(' ')[0]} it.`,
  );
}
