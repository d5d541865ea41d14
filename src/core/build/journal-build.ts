import type { ChatContext } from '../chat/context.ts';
import type { BotKit } from '../kit.ts';
import type { BuildRecord } from '../ports/index.ts';

/** Records a build in the store's journal for as long as it runs (crash recovery); the returned function ends it. */
export async function journalBuild(
  kit: Pick<BotKit, 'journal' | 'logger'>,
  ctx: ChatContext,
  build: Omit<BuildRecord, 'id' | 'startedAt' | 'channelId' | 'actorId'>,
): Promise<() => Promise<void>> {
  if (!kit.journal) return async () => undefined;
  return kit.journal.track({ ...build, channelId: ctx.channelId, actorId: ctx.actor.id }).catch((err: unknown) => {
    kit.logger.warn({ err, appId: build.appId }, 'the build could not be journaled');
    return async () => undefined;
  });
}
