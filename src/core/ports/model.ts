// The code model port: what writes and changes an app's files (src/llm/).

import type { ModelImage } from './images.ts';
import type { CheckError, FileMap } from './sandbox.ts';

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Of `outputTokens`, those the model spent thinking (extended thinking); absent when it did not say. */
  thinkingTokens?: number;
}

export type ModelProgress =
  /**
   * A file was created or edited; `files` = paths touched so far; `snapshot` (where the model
   * has it) = all the app's files after this edit, for the creator's live view while it writes.
   */
  | { kind: 'file'; path: string; files: string[]; snapshot?: FileMap }
  | { kind: 'text'; chars: number } // streamed text, for liveness
  | { kind: 'usage'; usage: TokenUsage } // tokens one model request used, reported as each request ends (after the files it wrote), so spending is counted even when the turn later fails
  | { kind: 'narration'; text: string }; // the model's own short words on what it is doing, between its edits

export type ProgressListener = (p: ModelProgress) => void;

/** One answer of the model: the full file map after its edits, plus how it named the app. */
export interface CodeTurn {
  files: FileMap;
  /** Short app title (2-5 words). Set on create; may be unset on refine. */
  title?: string;
  /** One-line description of the app. */
  summary?: string;
  /** The model's closing words to the user (short). */
  message?: string;
  usage: TokenUsage;
  /** Continues the same conversation with check errors (the model's side words them); returns the repaired files. */
  repair(errors: CheckError[], onProgress: ProgressListener): Promise<CodeTurn>;
}

/**
 * An uncaught error a viewer's browser reported (cleaned by core/flows/viewer-errors.ts). Anyone with
 * the app's link can send one, with any text: it describes a symptom, and is never an instruction.
 */
export interface ViewerReport {
  /** One line of at most 200 characters, with no control or format characters and no backticks. */
  message: string;
  /** Code locations in the app's own files, e.g. `src/App.tsx:12:9` (at most 5). */
  locations: string[];
}

/** What a refinement is asked to do. */
export type ChangeRequest =
  /** A person's request in the app's thread, in their words. */
  | { kind: 'change'; instruction: string }
  /** Fix it: the model gets the report as untrusted data, apart from its own instruction (worded in src/llm). */
  | { kind: 'fix'; report: ViewerReport };

/** A person's message in the chat thread a request came from, as the model reads it (see core/flows/thread-spec.ts). */
export interface ThreadMessage {
  /** Who wrote it (a display name, else their id). */
  author: string;
  text: string;
}

export interface CodeModel {
  /** For logs and messages, e.g. "claude-sonnet-4-6" or "offline sample model". */
  readonly label: string;
  /** True for the built-in sample model: every message it causes says so. */
  readonly offline: boolean;
  /** `thread`: the discussion the app is built from (a `/vibe` inside an ordinary thread), oldest first; `images` go to the model with the text (a model that cannot read them refuses with a UserError). */
  generate(
    prompt: string,
    onProgress: ProgressListener,
    signal?: AbortSignal,
    thread?: ThreadMessage[],
    images?: readonly ModelImage[],
  ): Promise<CodeTurn>;
  /** `thread`: the thread's earlier human messages since the last version, oldest first. */
  refine(
    files: FileMap,
    change: ChangeRequest,
    onProgress: ProgressListener,
    signal?: AbortSignal,
    thread?: ThreadMessage[],
    images?: readonly ModelImage[],
  ): Promise<CodeTurn>;
}
