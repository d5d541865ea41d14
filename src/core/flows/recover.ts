import { interruptedCard } from '../chat/status-cards.ts';
import type { BotKit } from '../kit.ts';
import type { BuildRecord, Conversation } from '../ports/index.ts';
import { RETRY_KEPT_MS } from './retry.ts';

/**
 * Another bot process died with builds in progress (see BuildJournal): their status messages
 * say so honestly, with a Retry button; a create's half-made app is deleted; the sandboxes they
 * used are no longer the apps' (the caller stops them: see `app.ts`). One process recovers each
 * dead one; a build whose channel no chat here can reach is left for a process that can.
 * Returns the app ids whose sandboxes are strays now.
 */
export async function recoverBuilds(
  kit: Pick<BotKit, 'journal' | 'store' | 'logger'>,
  conversationFor: (channelId: string) => Conversation | undefined,
): Promise<Set<string>> {
  const { journal, store, logger } = kit;
  const strays = new Set<string>();
  if (!journal) return strays;
  for (const { owner, builds } of await journal.dead()) {
    const lease = await store.acquireLease(`recover:${owner}`, 60_000);
    if (!lease) continue; // another process is on it
    const left: BuildRecord[] = [];
    for (const build of builds) {
      const conv = conversationFor(build.channelId);
      if (!conv) {
        left.push(build);
        continue;
      }
      try {
        const app = await store.getApp(build.appId);
        if (build.kind !== 'refine' && app && app.latestVersion === 0) await store.deleteApp(app.id);
        if (build.kind === 'refine' && app?.sandboxId)
          await store.updateApp(app.id, { sandboxId: undefined, sandboxUrl: undefined });
        strays.add(build.appId);
        await store.putNote(`retry:${build.id}`, build, RETRY_KEPT_MS);
        await conv.update(build.status, interruptedCard(build.what, build.id));
        logger.info(
          { owner, build: { id: build.id, kind: build.kind, appId: build.appId } },
          'recovered a build of a process that died',
        );
      } catch (err) {
        logger.warn({ err, owner, buildId: build.id }, 'could not recover a build of a process that died');
        left.push(build);
      }
    }
    if (left.length > 0) await store.setBuilds(owner, left);
    else await store.forgetInstance(owner);
    await store.releaseLease(`recover:${owner}`, lease);
  }
  return strays;
}
