// A build's progress streamed into a thread, where the platform can (see Conversation.stream).

/** One step of a build as a stream shows it; a later step with the same `id` replaces it. */
export interface ProgressStep {
  id: string;
  title: string;
  status: 'pending' | 'in_progress' | 'complete' | 'error';
  detail?: string;
}

/** A build's progress as it streams into a thread (see `Conversation.stream`). Calls never throw. */
export interface ProgressStream {
  step(step: ProgressStep): void;
  /** The model's short narration. */
  say(text: string): void;
  /** Ends the stream; resolves once everything sent before has been delivered (or refused). */
  end(): Promise<void>;
}
