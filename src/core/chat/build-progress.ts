import { progressCard, watchLinks, type Stage } from './status-cards.ts';
import type { Card, Conversation, Logger } from '../ports/index.ts';
import type { ProgressStep, ProgressStream } from './progress-stream.ts';
import type { StatusMessage } from './status-message.ts';

/** Said on the status message while the steps stream into the thread. */
export function streamingCard(what: string, watch?: string): Card {
  return {
    title: what,
    text: 'Working on it: the steps show in this thread as they happen.',
    ...watchLinks(watch),
    meta: { state: 'progress' },
  };
}

/**
 * Where a build's progress goes: the steps and the model's narration stream into the app's
 * thread where the platform can (Slack's chat streaming, `Conversation.stream`), and the status
 * message says so once; elsewhere, or as soon as the workspace refuses the stream, the status
 * message is edited with each stage, as it always was.
 */
export class BuildProgress {
  private streaming: boolean;
  private last?: Stage;
  /** Steps under way, by id: the next stage completes them (or fails them, on a repair). */
  private readonly open = new Map<string, ProgressStep>();
  private checks = 0;
  private watchUrl?: string;
  private readonly stream?: ProgressStream;

  constructor(
    private readonly status: StatusMessage,
    private readonly what: string,
    conv: Conversation,
    logger: Pick<Logger, 'info'>,
  ) {
    const thread = status.ref.threadId ?? status.ref.id;
    this.stream = conv.stream?.(thread, (err) => {
      if (!this.streaming) return;
      this.streaming = false;
      logger.info({ err }, 'progress streaming refused; the status message shows the progress');
      if (this.last) this.status.set(progressCard(this.what, this.last, this.watchUrl));
    });
    this.streaming = Boolean(this.stream);
    if (this.streaming) status.set(streamingCard(what));
  }

  /** The creator's live view, linked from the status message from now on (a work in progress). */
  watch(url: string): void {
    this.watchUrl = url;
    if (this.streaming) this.status.set(streamingCard(this.what, url));
    else if (this.last) this.status.set(progressCard(this.what, this.last, url));
  }

  stage(s: Stage): void {
    this.last = s;
    if (!this.streaming) return this.status.set(progressCard(this.what, s, this.watchUrl));
    for (const step of this.steps(s)) this.stream!.step(step);
  }

  narrate(text: string): void {
    if (this.streaming) this.stream!.say(text);
  }

  /** Closes the steps still open (done, or failed) and ends the stream; never throws. */
  async end(ok: boolean): Promise<void> {
    if (!this.stream) return;
    if (this.streaming) for (const step of this.close(ok ? 'complete' : 'error')) this.stream.step(step);
    await this.stream.end();
  }

  /** The step updates one stage makes: what it closes, and what it opens. */
  private steps(s: Stage): ProgressStep[] {
    switch (s.stage) {
      case 'writing': {
        const files = s.files.length ? s.files.join(', ') : undefined;
        // A repair's edits belong to the repair step, not to the first writing.
        const repair = [...this.open.values()].find((o) => o.id.startsWith('repair-'));
        return [
          repair
            ? this.begin(repair.id, repair.title, files ?? repair.detail)
            : this.begin('code', 'Writing the code', files),
        ];
      }
      case 'waiting':
        return [this.begin('sandbox', 'Waiting for a free sandbox')];
      case 'starting':
        return [...this.close('complete', 'code'), this.begin('sandbox', 'Starting the sandbox')];
      case 'checking':
        return [
          ...this.close('complete'),
          this.begin(`check-${++this.checks}`, this.checks === 1 ? 'Checking the code' : 'Checking the repaired code'),
        ];
      case 'rendering':
        return [...this.close('complete'), this.begin(`browser-${this.checks}`, 'Opening it in a browser')];
      case 'repairing':
        return [
          ...this.close('error'),
          this.begin(`repair-${s.round}`, `Repairing (round ${s.round} of ${s.of})`, s.firstError),
        ];
    }
  }

  private begin(id: string, title: string, detail?: string): ProgressStep {
    const step: ProgressStep = { id, title, status: 'in_progress', ...(detail ? { detail } : {}) };
    this.open.set(id, step);
    return step;
  }

  /** Closes the open steps (or only `id`) with `status`. */
  private close(status: 'complete' | 'error', id?: string): ProgressStep[] {
    const done = [...this.open.values()].filter((s) => !id || s.id === id).map((s) => ({ ...s, status }));
    for (const s of done) this.open.delete(s.id);
    return done;
  }
}
