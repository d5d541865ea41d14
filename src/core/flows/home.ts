import { homeValue } from '../chat/actions.ts';
import type { AppRuntime } from '../apps/app-runtime.ts';
import { workspaceOf } from '../ids.ts';
import type { AppRecord, AppStore, Card, Page } from '../ports/index.ts';
import { linkCard } from './link-card.ts';
import type { Screenshots } from './screenshots.ts';

/** Apps a page, in each of the home's two lists. */
export const HOME_PAGE_SIZE = 5;
/** The channels whose apps the home lists, at most (the platform gives the person's channels). */
export const HOME_MAX_CHANNELS = 100;
/** How deep the channels' list pages: every channel's newest apps are read up to this many. */
const CHANNELS_DEPTH = 100;

/** One list of the home: a title, its apps as cards (screenshot, version, links), and paging buttons. */
export interface HomeSection {
  title: string;
  /** Said when the list is empty. */
  empty: string;
  apps: Card[];
  actions: NonNullable<Card['actions']>;
}

/** A person's home (Slack's App Home tab): their own apps, then the apps of the channels they are in. */
export interface HomeView {
  sections: HomeSection[];
}

export interface HomeRequest {
  /** The person, as `Actor.id`; and a channel id of their workspace (the home's own, e.g. Slack's App Home channel). */
  userId: string;
  channelId: string;
  /** The channels the person is in (platform ids, as `ChatContext.channelId`). */
  channels: string[];
  /** Where each list is (see `homeValue`); the first pages when unset. */
  at?: { mine?: string; channels: number };
  threadLink?: (threadId: string) => string | undefined;
}

/**
 * The home: the person's apps in this workspace, newest first, and the apps of the channels they
 * are in (newest first, theirs left out), each list paged on its own. Every app with its newest
 * screenshot, version, Open and Thread. Only channels the platform says the person is in are read.
 */
export async function homeView(
  deps: { store: AppStore; runtime: AppRuntime; screenshots: Screenshots },
  req: HomeRequest,
): Promise<HomeView> {
  const here = workspaceOf(req.channelId);
  const at = req.at ?? { channels: 0 };
  const mine = await ownApps(deps.store, req.userId, here, at.mine);
  const offset = Math.min(at.channels, CHANNELS_DEPTH - HOME_PAGE_SIZE);
  const theirs = await channelApps(deps.store, req, here, offset);
  // Links only: a Remix needs a channel to start its thread in, and the home is none (the card in the thread has it).
  const entry = async (app: AppRecord): Promise<Card> => ({
    ...linkCard(app, deps.runtime.link(app), req.threadLink?.(app.threadId), await deps.screenshots.latest(app.id)),
    actions: [],
  });
  const paging = (prev: string | undefined, next: string | undefined, value: (cursor: string) => string) => [
    ...(prev !== undefined ? [{ label: 'Previous', action: 'home' as const, value: value(prev) }] : []),
    ...(next !== undefined ? [{ label: 'Next', action: 'home' as const, value: value(next) }] : []),
  ];
  return {
    sections: [
      {
        title: 'Your apps',
        empty: 'You have no apps in this workspace yet. Start one with `/vibe <what to build>` in a channel.',
        apps: await Promise.all(mine.items.map(entry)),
        actions: paging(mine.prev, mine.next, (c) => homeValue(c, offset)),
      },
      {
        title: 'Apps in your channels',
        empty: 'No apps in the channels you are in yet.',
        apps: await Promise.all(theirs.items.map(entry)),
        actions: paging(theirs.prev, theirs.next, (n) => homeValue(at.mine, Number(n))),
      },
    ],
  };
}

/** The person's apps in this workspace (the user index spans every workspace the id was seen in). */
async function ownApps(store: AppStore, userId: string, here: string, cursor?: string): Promise<Page<AppRecord>> {
  const shown = (a: AppRecord) => !a.deleted && a.latestVersion > 0 && workspaceOf(a.channelId) === here;
  const first = await store.appsOfUser(userId, HOME_PAGE_SIZE, cursor);
  const items = first.items.filter(shown);
  let next = first.next;
  for (let reads = 1; next && items.length < HOME_PAGE_SIZE && reads < 5; reads++) {
    const more = await store.appsOfUser(userId, HOME_PAGE_SIZE, next);
    items.push(...more.items.filter(shown));
    next = more.next;
  }
  return { items: items.slice(0, HOME_PAGE_SIZE), next, prev: first.prev };
}

/**
 * A page of the newest apps across the person's channels (not theirs): each channel's newest
 * `offset + page + 1` apps are read, enough to know the page (where the person's own apps crowd a
 * channel, a few of its older apps may come a page late), so no channel is read deeper.
 * Cursors are offsets, as strings.
 */
async function channelApps(store: AppStore, req: HomeRequest, here: string, offset: number): Promise<Page<AppRecord>> {
  const channels = [...new Set(req.channels)].filter((c) => workspaceOf(c) === here).slice(0, HOME_MAX_CHANNELS);
  const depth = offset + HOME_PAGE_SIZE + 1;
  const pages = await Promise.all(channels.map((c) => store.appsInChannel(c, depth)));
  const all = pages
    .flatMap((p) => p.items)
    .filter((a) => !a.deleted && a.latestVersion > 0 && a.ownerId !== req.userId)
    .sort((a, b) => b.createdAt - a.createdAt);
  const items = all.slice(offset, offset + HOME_PAGE_SIZE);
  return {
    items,
    ...(all.length > offset + HOME_PAGE_SIZE && offset + HOME_PAGE_SIZE < CHANNELS_DEPTH
      ? { next: String(offset + HOME_PAGE_SIZE) }
      : {}),
    ...(offset > 0 ? { prev: String(Math.max(0, offset - HOME_PAGE_SIZE)) } : {}),
  };
}
