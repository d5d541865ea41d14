import type { AppLink } from '../apps/app-links.ts';
import type { AppRuntime } from '../apps/app-runtime.ts';
import { workspaceOf } from '../ids.ts';
import type { AppRecord, AppStore, Card } from '../ports/index.ts';
import { remixAction, remixedFrom } from './lineage.ts';
import type { Screenshots } from './screenshots.ts';

/** At most this many links of one message get a card (a pasted list of links is not a gallery). */
export const MAX_LINK_CARDS = 3;

/**
 * Cards for the app links in a message posted in `channelId` (Slack unfurls them, Discord replies
 * with them): one per app, in the order the links came. Links of deleted apps, of apps not yet
 * made, of other workspaces (the same answer as no app: nothing leaks), and links that are not
 * the bot's app links get none.
 */
export async function linkCards(
  deps: { store: AppStore; runtime: AppRuntime; screenshots: Screenshots },
  where: { channelId: string; threadLink?: (threadId: string) => string | undefined },
  urls: string[],
): Promise<{ url: string; card: Card }[]> {
  const seen = new Set<string>();
  const found: { url: string; appId: string }[] = [];
  for (const url of urls) {
    const appId = deps.runtime.appIdIn(url);
    if (!appId || seen.has(appId) || found.length >= MAX_LINK_CARDS) continue;
    seen.add(appId);
    found.push({ url, appId });
  }
  const cards: { url: string; card: Card }[] = [];
  for (const { url, appId } of found) {
    const app = await deps.store.getApp(appId);
    if (!app || app.deleted || app.latestVersion < 1) continue;
    if (workspaceOf(app.channelId) !== workspaceOf(where.channelId)) continue;
    const shot = await deps.screenshots.latest(app.id);
    cards.push({ url, card: linkCard(app, deps.runtime.link(app), where.threadLink?.(app.threadId), shot) });
  }
  return cards;
}

/** An app shown where its link was posted: title, summary, its newest screenshot, version, Open, Thread, Remix. */
export function linkCard(
  app: AppRecord,
  link: AppLink,
  threadUrl: string | undefined,
  shot: { version: number; png: Uint8Array } | undefined,
): Card {
  return {
    title: app.title,
    text: [app.summary, remixedFrom(app)].filter(Boolean).join('\n') || undefined,
    fields: [
      { label: 'Version', value: `v${app.latestVersion}` },
      { label: 'Owner', value: app.ownerName ?? app.ownerId, userId: app.ownerId },
    ],
    links: [
      { label: 'Open', url: link.open, kind: 'app' },
      ...(threadUrl ? [{ label: 'Thread', url: threadUrl, kind: 'thread' as const }] : []),
    ],
    actions: [remixAction(app.id)],
    ...(shot ? { image: { png: shot.png, alt: `Screenshot of ${app.title}, v${shot.version}` } } : {}),
    meta: { appId: app.id, version: app.latestVersion, url: link.open, state: 'live' },
  };
}
