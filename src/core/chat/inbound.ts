import { failure } from '../build/failure.ts';
import { UserError } from '../errors.ts';
import type { BotKit } from '../kit.ts';
import { errorCard, OFFLINE_NOTE } from './cards.ts';
import type { ChatContext } from './context.ts';
import { withFooter } from './with-footer.ts';

/** How long an event id is remembered for dedupe (platforms retry within minutes). */
const EVENT_DEDUPE_MS = 60 * 60_000;

type InboundKit = Pick<BotKit, 'store' | 'logger' | 'model' | 'background'>;

/** False for events to ignore: written by a bot, or an id already handled (a platform's re-delivery). */
export async function isNew(kit: Pick<BotKit, 'store' | 'logger'>, ctx: ChatContext): Promise<boolean> {
  if (ctx.fromBot) return false;
  if (ctx.eventId && !(await kit.store.firstSeen(ctx.eventId, EVENT_DEDUPE_MS))) {
    kit.logger.info({ eventId: ctx.eventId }, 'duplicate event ignored');
    return false;
  }
  return true;
}

/**
 * Runs a handler with what every inbound event needs, once for all platforms: bots ignored,
 * re-delivered events handled once, error reporting, the offline footer, in-flight tracking.
 */
export function track(kit: InboundKit, ctx: ChatContext, handler: (ctx: ChatContext) => Promise<void>): Promise<void> {
  const c = kit.model.offline ? { ...ctx, conv: withFooter(ctx.conv, OFFLINE_NOTE) } : ctx;
  const p = isNew(kit, ctx)
    .then((fresh) => (fresh ? handler(c) : undefined))
    .catch(async (err: unknown) => {
      const card = err instanceof UserError ? errorCard(err.message) : failure(kit.logger, 'Request', err);
      await c.conv.ephemeral(card).catch((e) => kit.logger.error({ err: e }, 'could not report an error'));
    });
  return kit.background(p);
}
