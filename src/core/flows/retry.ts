import type { ChatContext } from '../chat/context.ts';
import { UserError } from '../errors.ts';
import type { BotKit } from '../kit.ts';
import { admit } from '../limits/admit.ts';
import type { BuildRecord } from '../ports/index.ts';
import { createApp } from './create.ts';
import { resolveApp } from './find-app.ts';
import { refineApp } from './refine.ts';
import { remixApp } from './remix.ts';

/** How long an interrupted build can be retried. */
export const RETRY_KEPT_MS = 7 * 24 * 3600_000;

type RetryKit = Parameters<typeof createApp>[0] &
  Parameters<typeof refineApp>[0] &
  Parameters<typeof remixApp>[0] &
  Pick<BotKit, 'policies'>;

/** Runs an interrupted build again (its Retry button), once, as the person who presses it, admitted as what it runs. */
export async function retry(kit: RetryKit, ctx: ChatContext, id: string): Promise<void> {
  const { store } = kit;
  const build = await store.getNote<BuildRecord>(`retry:${id}`);
  if (!build || build.channelId !== ctx.channelId)
    throw new UserError('There is nothing to retry here: it is too old, or from another channel.');
  const once = async () => {
    if (!(await store.firstSeen(`retried:${id}`, RETRY_KEPT_MS))) throw new UserError('This was retried already.');
  };
  if (build.kind === 'create') {
    await admit(kit, ctx, 'create');
    await once();
    return createApp(kit, ctx, build.text, build.threadId);
  }
  if (build.kind === 'remix') {
    const source = await resolveApp(store, ctx, build.text, 'remix');
    await admit(kit, ctx, 'remix', source);
    await once();
    return remixApp(kit, ctx, source);
  }
  const app = await resolveApp(store, ctx, build.appId, 'retry');
  await admit(kit, ctx, 'refine', app);
  await once();
  return refineApp(
    kit,
    ctx,
    app,
    build.report ? { kind: 'fix', report: build.report } : { kind: 'change', instruction: build.text },
  );
}
