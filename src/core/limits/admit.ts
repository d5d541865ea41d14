import type { ChatContext } from '../chat/context.ts';
import type { BotKit } from '../kit.ts';
import type { AppRecord } from '../ports/index.ts';
import type { RequestKind } from './policy.ts';

/**
 * Every registered policy, in order, for one request; the first refusal (a UserError) wins.
 * `app`: the app it acts on, as the caller read it (policies never read it again), or its id.
 */
export async function admit(
  kit: Pick<BotKit, 'line' | 'policies'>,
  ctx: ChatContext,
  kind: RequestKind,
  app?: AppRecord | string,
): Promise<void> {
  const appId = typeof app === 'string' ? app : app?.id;
  // The per-app line is this process's (the policies cannot see it), and is checked first: a
  // change refused here is not counted as a build. (Checked again where it joins the line.)
  if ((kind === 'refine' || kind === 'export') && appId) kit.line.refuseIfFull(appId, kind);
  const known = typeof app === 'object' ? { app } : {};
  for (const policy of kit.policies) await policy.admit({ kind, ctx, ...(appId ? { appId } : {}), ...known });
}
