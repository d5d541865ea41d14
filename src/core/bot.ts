import { PICTURE_ONLY_PROMPT } from './build/images.ts';
import { parseCommand, type Command } from './chat/commands.ts';
import type { ChatContext } from './chat/context.ts';
import { isNew, track } from './chat/inbound.ts';
import { UserError } from './errors.ts';
import { noteViewerError } from './flows/fix.ts';
import { homeView, type HomeRequest, type HomeView } from './flows/home.ts';
import { linkCards } from './flows/link-card.ts';
import { recoverBuilds } from './flows/recover.ts';
import type { ViewerErrorReport } from './flows/viewer-errors.ts';
import { makeKit, type BotDeps, type BotKit } from './kit.ts';
import { admit } from './limits/admit.ts';
import type { BuildManifest, Conversation } from './ports/index.ts';
import { runButton } from './routes/button.ts';
import { runCommand } from './routes/command.ts';
import { threadReply } from './routes/thread-reply.ts';

export type { BotDeps } from './kit.ts';

/**
 * The bot itself, for any chat platform: the router. Each inbound event gets what every event
 * needs once (bots and re-deliveries dropped, errors reported, the offline footer, tracked for
 * `idle()`), then its route (`routes/`: the app read once, the policies, the flow in `flows/`).
 */
export class VibeBot {
  private readonly inflight = new Set<Promise<unknown>>();
  /** How to speak in a channel outside a request (see `connect`). */
  private readonly outbound = new Set<(channelId: string) => Conversation | undefined>();
  private readonly kit: BotKit;

  constructor(deps: BotDeps) {
    this.kit = makeKit(deps, this.outbound, this.inflight);
  }

  /**
   * For an adapter: how the bot posts in one of its channels when no event brought a
   * Conversation (a viewer-error note). `conversationFor` answers undefined for channel ids
   * that are not its platform's. Returns the unregister function.
   */
  connect(conversationFor: (channelId: string) => Conversation | undefined): () => void {
    this.outbound.add(conversationFor);
    return () => void this.outbound.delete(conversationFor);
  }

  /** An uncaught error a viewer's browser hit in the app (see flows/fix.ts): noted in the app's thread. */
  viewerError(appId: string, report: ViewerErrorReport): Promise<void> {
    const p = noteViewerError(this.kit, appId, report).catch((err: unknown) =>
      this.kit.logger.warn({ err, appId }, 'a viewer error could not be noted'),
    );
    return this.kit.background(p);
  }

  /** `/vibe <text>`. */
  command(ctx: ChatContext, text: string): Promise<void> {
    const said = text.trim() === '' && ctx.images?.length ? PICTURE_ONLY_PROMPT : text;
    return this.dispatch(ctx, parseCommand(said));
  }

  /** An already-parsed command (platforms with structured commands, e.g. Discord's subcommands). */
  dispatch(ctx: ChatContext, cmd: Command): Promise<void> {
    return track(this.kit, ctx, (c) => runCommand(this.kit, c, cmd));
  }

  /** A human message in a thread. Refines the thread's app; ignores threads that are not apps'. */
  threadMessage(ctx: ChatContext, text: string): Promise<void> {
    return track(this.kit, ctx, (c) => threadReply(this.kit, c, text));
  }

  /** A button press: `action` and `value` come from a card's actions. */
  action(ctx: ChatContext, action: string, value: string): Promise<void> {
    return track(this.kit, ctx, (c) => runButton(this.kit, c, action, value));
  }

  /**
   * Cards for the app links a message carried (Slack's `link_shared`, a Discord message with
   * links): the Conversation shows them on the message. Nobody asked the bot, so nothing is said
   * when there is nothing to show or something fails (it is logged).
   */
  linkShared(ctx: ChatContext, urls: string[]): Promise<void> {
    const kit = this.kit;
    const p = (async () => {
      if (!ctx.conv.unfurl || !(await isNew(kit, ctx))) return;
      await admit(kit, ctx, 'unfurl');
      const threadLink = ctx.conv.threadLink?.bind(ctx.conv);
      const cards = await linkCards(kit, { ...ctx, threadLink }, urls);
      if (cards.length > 0) await ctx.conv.unfurl(cards);
    })().catch((err: unknown) => {
      if (err instanceof UserError) kit.logger.info({ reason: err.message }, 'app links not shown: refused');
      else kit.logger.warn({ err }, 'app links could not be shown');
    });
    return kit.background(p);
  }

  /**
   * A person's home (Slack's App Home): their apps and their channels' apps, paged. `ctx.channelId`
   * is a channel of theirs in the workspace; `channels` are the channels the platform says they are in.
   */
  async home(ctx: ChatContext, channels: string[], at?: HomeRequest['at']): Promise<HomeView> {
    await admit(this.kit, ctx, 'mine');
    const threadLink = ctx.conv.threadLink?.bind(ctx.conv);
    return homeView(this.kit, {
      userId: ctx.actor.id,
      channelId: ctx.channelId,
      channels,
      ...(at ? { at } : {}),
      threadLink,
    });
  }

  /**
   * The builds of bot processes that died (see flows/recover.ts), told honestly in their chats.
   * Returns the app ids whose sandboxes are strays now (the caller stops them).
   */
  recover(): Promise<Set<string>> {
    return recoverBuilds(this.kit, (channelId) => [...this.outbound].map((f) => f(channelId)).find(Boolean));
  }

  /**
   * Publishes the app's newest version if it is not (its first view, for an app stored before
   * publishing): in the app's line, so it never races a change to the same app, but once however
   * many viewers ask, and not counted among the changes waiting there (viewers are strangers:
   * their page loads must not fill the line the owner's changes are capped in).
   */
  publishLatest(appId: string): Promise<BuildManifest | undefined> {
    const { publisher, line } = this.kit;
    if (!publisher) return Promise.resolve(undefined);
    return publisher.publishLatest(appId, (task) => line.run(appId, task, { counted: false }));
  }

  /** Resolves when every request under way has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }
}
