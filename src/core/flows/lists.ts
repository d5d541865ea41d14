import { galleryCard, type GalleryEntry } from '../chat/cards.ts';
import type { ChatContext } from '../chat/context.ts';
import { workspaceOf } from '../ids.ts';
import type { BotKit } from '../kit.ts';
import type { AppRecord, Page } from '../ports/index.ts';

type ListKit = Pick<BotKit, 'store' | 'runtime' | 'galleryPageSize'>;

/** `/vibe gallery`: the channel's apps, newest first, paged. */
export async function gallery(kit: ListKit, ctx: ChatContext, cursor?: string): Promise<void> {
  const page = await kit.store.appsInChannel(ctx.channelId, kit.galleryPageSize, cursor);
  await showApps(kit, ctx, page, 'gallery');
}

/** `/vibe mine`: the caller's own apps, in every channel of this workspace or server, paged like the gallery. */
export async function mine(kit: ListKit, ctx: ChatContext, cursor?: string): Promise<void> {
  // The user index spans every workspace the id was seen in; pages of it are read until this
  // workspace's apps fill one (a few reads at most), so a page is never needlessly short.
  const size = kit.galleryPageSize;
  const here = workspaceOf(ctx.channelId);
  const first = await kit.store.appsOfUser(ctx.actor.id, size, cursor);
  const items = first.items.filter((a) => workspaceOf(a.channelId) === here);
  let next = first.next;
  for (let reads = 1; next && items.length < size && reads < 5; reads++) {
    const more = await kit.store.appsOfUser(ctx.actor.id, size, next);
    items.push(...more.items.filter((a) => workspaceOf(a.channelId) === here));
    next = more.next;
  }
  await showApps(kit, ctx, { items, next, prev: first.prev }, 'mine');
}

async function showApps(
  kit: Pick<BotKit, 'runtime'>,
  ctx: ChatContext,
  page: Page<AppRecord>,
  list: 'gallery' | 'mine',
): Promise<void> {
  const items: GalleryEntry[] = page.items
    .filter((a) => !a.deleted && a.latestVersion > 0)
    .map((app) => ({
      app,
      live: kit.runtime.isRunning(app.id),
      url: kit.runtime.link(app).open,
      threadUrl: ctx.conv.threadLink?.(app.threadId),
    }));
  const card = galleryCard({ ...page, items }, list);
  // Only the person who asked sees it, so paging changes nobody else's view and the channel stays quiet.
  if (ctx.source) await ctx.conv.update(ctx.source, card);
  else await ctx.conv.ephemeral(card);
}
