import { blockKitProblems } from './block-kit-limits.ts';
import type { ApiResult, FakeSlackMessage, FakeSlackWorkspace } from './workspace.ts';

/**
 * Slack's chat streaming as @slack/web-api@8's ChatStreamer drives it (docs.slack.dev/reference/
 * methods/chat.startStream, .appendStream, .stopStream), and the assistant status line
 * (assistant.threads.setStatus). Strict where Slack documents it: a stream is a reply in a thread
 * (`thread_ts` required), in a channel it needs `recipient_user_id` and `recipient_team_id`
 * (`missing_recipient_user_id`, `missing_recipient_team_id`), appends and stops only work on the
 * app's own message while it streams (`message_not_found`, `message_not_owned_by_app`,
 * `message_not_in_streaming_state`), an append needs text or chunks (`no_text`); markdown_text is
 * at most 12,000 characters. Where Slack's exact answer is undocumented (a malformed chunk, a
 * `thread_ts` that is no message, text over the limit) the fake answers `invalid_arguments` or
 * `msg_too_long`, so such a bug fails its test rather than passing.
 *
 * A workspace or token without streaming: `streaming: '<error>'` makes the three methods answer
 * that error (e.g. `unknown_method`, `not_allowed_token_type`); `assistantStatus: '<error>'` does
 * the same for the status line.
 */

export interface FakeStreamingOptions {
  streaming?: true | string;
  assistantStatus?: true | string;
}

/** One assistant.threads.setStatus the fake accepted. */
export interface ThreadStatus {
  channel_id: string;
  thread_ts: string;
  status: string;
  loading_messages?: string[];
  /** The message clock when it was set: a later bot reply in the thread clears it, as on Slack. */
  clock: string;
}

type Args = Record<string, any>;
const fail = (error: string): ApiResult => ({ ok: false, error });
const MAX_MARKDOWN = 12_000;
const TASK_STATUSES = ['pending', 'in_progress', 'complete', 'error'];

export class FakeSlackStreams {
  readonly statuses: ThreadStatus[] = [];

  constructor(
    private readonly ws: FakeSlackWorkspace,
    private readonly options: FakeStreamingOptions,
  ) {}

  /** Answers a streaming or status method; undefined for any other method. */
  call(method: string, args: Args): ApiResult | undefined {
    switch (method) {
      case 'chat.startStream':
        return this.refusal(this.options.streaming) ?? this.start(args);
      case 'chat.appendStream':
        return this.refusal(this.options.streaming) ?? this.append(args);
      case 'chat.stopStream':
        return this.refusal(this.options.streaming) ?? this.stop(args);
      case 'assistant.threads.setStatus':
        return this.refusal(this.options.assistantStatus) ?? this.setStatus(args);
      default:
        return undefined;
    }
  }

  /** The thread's status line as a person sees it now ('' when none, or cleared by a bot reply). */
  statusOf(channel: string, threadTs: string): string {
    const last = this.statuses.filter((s) => s.channel_id === channel && s.thread_ts === threadTs).at(-1);
    if (!last) return '';
    const replied = this.ws
      .messages(channel)
      .some((m) => m.thread_ts === threadTs && m.ts !== threadTs && m.ts > last.clock && !m.ephemeralFor);
    return replied ? '' : last.status;
  }

  private refusal(setting: true | string | undefined): ApiResult | undefined {
    return setting === undefined || setting === true ? undefined : fail(setting);
  }

  private start(args: Args): ApiResult {
    const problem = this.ws.postProblem(args.channel);
    if (problem) return problem;
    const channel = String(args.channel);
    if (typeof args.thread_ts !== 'string' || !args.thread_ts) return fail('invalid_arguments');
    const parent = this.ws.find(channel, args.thread_ts);
    // Slack: "Streamed messages should always be replies"; a reply's own ts is not a thread.
    if (!parent || (parent.thread_ts && parent.thread_ts !== parent.ts)) return fail('invalid_arguments');
    if (!channel.startsWith('D')) {
      if (typeof args.recipient_user_id !== 'string' || !args.recipient_user_id)
        return fail('missing_recipient_user_id');
      if (typeof args.recipient_team_id !== 'string' || !args.recipient_team_id)
        return fail('missing_recipient_team_id');
    }
    if (args.task_display_mode !== undefined && !['timeline', 'plan'].includes(args.task_display_mode))
      return fail('invalid_arguments');
    const content = this.content(args, false);
    if ('error' in content) return fail(content.error);
    const m = this.ws.add(channel, {
      text: content.text,
      blocks: [],
      thread_ts: args.thread_ts,
      streaming: true,
      chunks: content.chunks,
    });
    return { ok: true, channel, ts: m.ts };
  }

  private append(args: Args): ApiResult {
    const found = this.streaming(args);
    if ('error' in found) return fail(found.error);
    const content = this.content(args, true);
    if ('error' in content) return fail(content.error);
    this.add(found, content);
    return { ok: true, channel: args.channel, ts: found.ts };
  }

  private stop(args: Args): ApiResult {
    const found = this.streaming(args);
    if ('error' in found) return fail(found.error);
    const content = this.content(args, false);
    if ('error' in content) return fail(content.error);
    if (args.blocks !== undefined && blockKitProblems(args.blocks).length > 0) return fail('invalid_blocks');
    this.add(found, content);
    if (Array.isArray(args.blocks)) found.blocks = args.blocks;
    found.streaming = false;
    return { ok: true, channel: args.channel, ts: found.ts, message: this.ws.wireMessage(found) };
  }

  private setStatus(args: Args): ApiResult {
    const problem = this.ws.postProblem(args.channel_id);
    if (problem) return problem.error === 'not_in_channel' ? problem : fail('channel_not_found');
    if (typeof args.thread_ts !== 'string' || !this.ws.find(args.channel_id, args.thread_ts))
      return fail('invalid_thread_ts');
    if (typeof args.status !== 'string') return fail('invalid_arguments');
    const loading = args.loading_messages;
    if (loading !== undefined && (!Array.isArray(loading) || loading.length > 10)) return fail('invalid_arguments');
    this.statuses.push({
      channel_id: args.channel_id,
      thread_ts: args.thread_ts,
      status: args.status,
      ...(loading ? { loading_messages: loading } : {}),
      clock: this.ws.nextTs(),
    });
    return { ok: true };
  }

  /** The app's own message, still streaming, named by `channel` and `ts`; or the error Slack gives. */
  private streaming(args: Args): FakeSlackMessage | { error: string } {
    const problem = this.ws.postProblem(args.channel);
    if (problem) return { error: String(problem.error) };
    const m = this.ws.find(String(args.channel), args.ts);
    if (!m) return { error: 'message_not_found' };
    if (m.user !== this.ws.identity.botUserId) return { error: 'message_not_owned_by_app' };
    if (!m.streaming) return { error: 'message_not_in_streaming_state' };
    return m;
  }

  /** markdown_text and chunks, checked; `required`: one of them must be there (appends). */
  private content(
    args: Args,
    required: boolean,
  ): { text: string; chunks: Record<string, unknown>[] } | { error: string } {
    const markdown = args.markdown_text;
    if (markdown !== undefined && typeof markdown !== 'string') return { error: 'invalid_arguments' };
    if (typeof markdown === 'string' && markdown.length > MAX_MARKDOWN) return { error: 'msg_too_long' };
    const chunks: unknown = args.chunks ?? [];
    if (!Array.isArray(chunks) || !chunks.every(validChunk)) return { error: 'invalid_arguments' };
    const list = [
      ...(markdown ? [{ type: 'markdown_text', text: markdown }] : []),
      ...(chunks as Record<string, unknown>[]),
    ];
    if (required && list.length === 0) return { error: 'no_text' };
    const text = list.filter((c) => c.type === 'markdown_text').map((c) => String(c.text));
    if (text.join('').length > MAX_MARKDOWN) return { error: 'msg_too_long' };
    return { text: text.join(''), chunks: list };
  }

  private add(m: FakeSlackMessage, content: { text: string; chunks: Record<string, unknown>[] }): void {
    m.text += content.text;
    m.chunks = [...(m.chunks ?? []), ...content.chunks];
    m.edits += 1;
  }
}

function validChunk(c: unknown): boolean {
  if (typeof c !== 'object' || c === null) return false;
  const x = c as Record<string, unknown>;
  const optionalText = (k: string) => x[k] === undefined || typeof x[k] === 'string';
  switch (x.type) {
    case 'markdown_text':
      return typeof x.text === 'string' && x.text.length <= MAX_MARKDOWN;
    case 'task_update':
      return (
        typeof x.id === 'string' &&
        x.id !== '' &&
        typeof x.title === 'string' &&
        x.title !== '' &&
        TASK_STATUSES.includes(String(x.status)) &&
        optionalText('details') &&
        optionalText('output') &&
        (x.sources === undefined || Array.isArray(x.sources))
      );
    case 'plan_update':
      return typeof x.title === 'string';
    case 'blocks':
      return Array.isArray(x.blocks) && x.blocks.length <= 50 && blockKitProblems(x.blocks).length === 0;
    default:
      return false;
  }
}
