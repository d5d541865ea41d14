import type { types, webApi } from '@slack/bolt';
import type { Logger } from '../../src/core/ports/index.ts';
import type { ProgressStep, ProgressStream } from '../../src/core/chat/progress-stream.ts';
import { clip, escapeMrkdwn } from './slack-text.ts';

export interface SlackStreamPlace {
  client: webApi.WebClient;
  team: string;
  channel: string;
  /** The thread's root ts: the stream is a reply in it. */
  threadTs: string;
  /** Who asked: Slack streams to one recipient in channels. */
  user: string;
  logger: Pick<Logger, 'debug'>;
}

/**
 * A build's progress streamed into its thread with @slack/web-api's ChatStreamer
 * (chat.startStream / appendStream / stopStream): each step is a `task_update` chunk (timeline
 * display), the model's narration a `markdown_text` chunk; and the thread's assistant status line
 * names the step under way (assistant.threads.setStatus), where the workspace has it.
 *
 * One Web API call at a time: whatever arrives meanwhile is sent together in the next append
 * (a step updated twice is sent once, as it stands). The first refusal (a workspace or token
 * without streaming, a stream Slack closed) is reported through `onRefused` and the stream goes
 * quiet; the core then edits the status message instead.
 */
export class SlackProgressStream implements ProgressStream {
  private readonly streamer: webApi.ChatStreamer;
  private pending: types.AnyChunk[] = [];
  private chain: Promise<void> = Promise.resolve();
  private queued = false;
  private refused = false;
  private statusLine?: boolean; // undefined: not tried yet; false: the workspace has none
  private lastStatus = '';
  private wantedStatus = '';

  constructor(
    private readonly place: SlackStreamPlace,
    private readonly onRefused: (err: unknown) => void,
  ) {
    this.streamer = place.client.chatStream({
      channel: place.channel,
      thread_ts: place.threadTs,
      recipient_team_id: place.team,
      recipient_user_id: place.user,
      task_display_mode: 'timeline',
    });
  }

  step(step: ProgressStep): void {
    if (this.refused) return;
    const chunk: types.AnyChunk = {
      type: 'task_update',
      id: step.id,
      title: clip(inert(step.title), 150),
      status: step.status,
      ...(step.detail ? { details: clip(inert(step.detail), 500) } : {}),
    };
    const at = this.pending.findIndex((c) => c.type === 'task_update' && c.id === step.id);
    if (at >= 0) this.pending[at] = chunk;
    else this.pending.push(chunk);
    if (step.status === 'in_progress')
      this.wantedStatus = `is ${step.title.charAt(0).toLowerCase()}${step.title.slice(1)}…`;
    this.schedule();
  }

  say(text: string): void {
    if (this.refused || !text.trim()) return;
    this.pending.push({ type: 'markdown_text', text: `${clip(inert(text.trim()), 1000)}\n\n` });
    this.schedule();
  }

  async end(): Promise<void> {
    this.wantedStatus = '';
    this.chain = this.chain.then(async () => {
      await this.flush();
      if (!this.refused && this.streamer.ts) await this.streamer.stop().catch((err: unknown) => this.refuse(err));
      await this.setStatus('');
    });
    await this.chain;
  }

  private schedule(): void {
    if (this.queued) return;
    this.queued = true;
    this.chain = this.chain.then(() => {
      this.queued = false;
      return this.flush();
    });
  }

  private async flush(): Promise<void> {
    await this.setStatus(this.wantedStatus);
    const chunks = this.pending;
    this.pending = [];
    if (this.refused || chunks.length === 0) return;
    await this.streamer.append({ chunks }).catch((err: unknown) => this.refuse(err));
  }

  /** The thread's status line, when it changed; a workspace without one is not asked again. */
  private async setStatus(status: string): Promise<void> {
    if (this.statusLine === false || status === this.lastStatus) return;
    this.lastStatus = status;
    const { client, channel, threadTs, logger } = this.place;
    await client.assistant.threads.setStatus({ channel_id: channel, thread_ts: threadTs, status }).then(
      () => void (this.statusLine = true),
      (err: unknown) => {
        this.statusLine = false;
        logger.debug({ err, channel }, 'slack: no assistant status line here');
      },
    );
  }

  private refuse(err: unknown): void {
    if (this.refused) return;
    this.refused = true;
    this.pending = [];
    this.onRefused(err);
  }
}

/** Text from the model or a check, made inert: no mentions, no links it did not mean. */
function inert(text: string): string {
  return escapeMrkdwn(text).replace(/@(channel|here|everyone)\b/gi, '@\u200b$1');
}
