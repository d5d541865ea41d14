import type { ChatContext } from '../chat/context.ts';
import type { AppRecord } from '../ports/index.ts';

/** What a request asks the bot to do (the flow it runs). */
export type RequestKind =
  | 'create'
  | 'refine'
  | 'remix'
  | 'undo'
  | 'restore'
  | 'delete'
  | 'versions'
  | 'gallery'
  | 'mine'
  | 'usage'
  | 'export'
  | 'help'
  /** Cards for app links someone posted (nobody asked the bot: a refusal is silent). */
  | 'unfurl'
  /** `/vibe data` and its reset (shared state). */
  | 'data';

export interface BotRequest {
  kind: RequestKind;
  ctx: ChatContext;
  /** The app it acts on, when it acts on one. */
  appId?: string;
  /** That app's record, when the bot has read it already (a policy reads it only when this is missing). */
  app?: AppRecord;
}

/**
 * A rule run before every request's handler (rate limits, budgets, tenancy): it returns to let
 * the request through, or throws a UserError whose message the asker sees privately. Policies
 * are small registered units (BotDeps.policies), run in order; the first refusal wins.
 */
export interface Policy {
  readonly name: string;
  admit(request: BotRequest): Promise<void>;
}
