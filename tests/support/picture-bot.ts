import type { VibeBot } from '../../src/core/bot.ts';
import type { ChatContext } from '../../src/core/chat/context.ts';
import type { Card } from '../../src/core/ports/index.ts';

/**
 * A stand-in for the core that sends what it sends once a version goes live with a screenshot:
 * a create posts its status, makes it the thread's root and finishes it with `update`; a message
 * in the thread is a reply, also finished with `update`; "undo" answers with one reply carrying
 * the live card (as undo and restore do). The adapters run for real around it, so their tests see
 * a PNG reach the platform before the core itself makes screenshots.
 */
export class PictureBot {
  /** Errors the adapter threw at the bot's calls (the real core would log them). */
  readonly errors: unknown[] = [];
  private version = 0;

  constructor(
    private readonly png: Uint8Array,
    readonly appId = 'k3j9x0q2ab',
  ) {}

  /** The live card of version `n`, its screenshot attached. */
  live(n: number): Card {
    return {
      title: 'Focus Timer',
      text: 'A pomodoro timer',
      links: [{ label: 'Open', url: `https://apps.test/apps/${this.appId}/`, kind: 'app' }],
      image: { png: this.png, alt: `Screenshot of Focus Timer, v${n}` },
      meta: { appId: this.appId, version: n, url: `https://apps.test/apps/${this.appId}/`, state: 'live' },
    };
  }

  /** As VibeBot: what the adapters call. */
  asBot(): VibeBot {
    const create = (ctx: ChatContext) => this.guard(() => this.create(ctx));
    return {
      command: create,
      dispatch: create,
      threadMessage: (ctx: ChatContext, text: string) => this.guard(() => this.refine(ctx, text)),
      action: async () => undefined,
      connect: () => () => undefined,
      idle: async () => undefined,
    } as unknown as VibeBot;
  }

  private async create(ctx: ChatContext): Promise<void> {
    const ref = await ctx.conv.post({ text: 'Writing the code…', meta: { state: 'progress' } });
    await ctx.conv.startThread(ref, 'Focus Timer');
    await ctx.conv.update(ref, this.live(++this.version));
  }

  private async refine(ctx: ChatContext, text: string): Promise<void> {
    if (ctx.fromBot || !ctx.threadId) return;
    if (text === 'undo') return void (await ctx.conv.reply(ctx.threadId, this.live(++this.version)));
    const ref = await ctx.conv.reply(ctx.threadId, { text: 'Changing it…', meta: { state: 'progress' } });
    await ctx.conv.update(ref, this.live(++this.version));
  }

  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.errors.push(err);
    }
  }
}
