import { usageCard } from '../chat/cards.ts';
import type { ChatContext } from '../chat/context.ts';
import { withTokensByModel } from '../chat/model-tokens.ts';
import type { BotKit } from '../kit.ts';
import { DAY_MS, HOUR_MS } from '../limits/usage-meter.ts';

/** `/vibe usage`: the caller's and the channel's use in the current windows, and the limits (private). */
export async function showUsage(kit: Pick<BotKit, 'meter' | 'model' | 'limits'>, ctx: ChatContext): Promise<void> {
  const { meter } = kit;
  const used = await meter.snapshot({ userId: ctx.actor.id, channelId: ctx.channelId }, [kit.model.label]);
  const card = usageCard(used, kit.limits ?? {}, {
    hourResets: meter.resetsAt(HOUR_MS),
    dayResets: meter.resetsAt(DAY_MS),
    now: meter.now(),
  });
  await ctx.conv.ephemeral(withTokensByModel(card, used.userByModel));
}
