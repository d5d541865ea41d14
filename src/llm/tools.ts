import type { Tool, ToolTextEditor20250728 } from '@anthropic-ai/sdk/resources/messages';
import type { FileMap } from '../core/ports/index.ts';
import { runTextEditor } from './text-editor.ts';

/** Anthropic's schema-less text editor tool: Claude models are trained on its exact commands. */
export const TEXT_EDITOR_TOOL: ToolTextEditor20250728 = {
  type: 'text_editor_20250728',
  name: 'str_replace_based_edit_tool',
};

export const SET_APP_INFO_TOOL: Tool = {
  name: 'set_app_info',
  description:
    "Names the app shown in the chat. Call it once when you create an app, and again only when a change makes the old name wrong. The title is a name for the app (2-5 words), not the user's request repeated.",
  input_schema: {
    type: 'object',
    properties: {
      title: { type: 'string', description: 'Short app name, 2-5 words, e.g. "Pomodoro Timer".' },
      summary: { type: 'string', description: 'One line saying what the app does.' },
    },
    required: ['title', 'summary'],
  },
};

const MAX_TITLE_CHARS = 60;
const MAX_SUMMARY_CHARS = 200;

/** Validates a `set_app_info` input: the app info, or an error text for the model. */
export function parseAppInfo(input: unknown): { title: string; summary: string } | { error: string } {
  const o = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const title = typeof o['title'] === 'string' ? o['title'].replace(/\s+/g, ' ').trim() : '';
  const summary = typeof o['summary'] === 'string' ? o['summary'].replace(/\s+/g, ' ').trim() : '';
  if (!title) return { error: 'Error: `title` is required (2-5 words).' };
  if (!summary) return { error: 'Error: `summary` is required (one line).' };
  if (title.length > MAX_TITLE_CHARS)
    return { error: `Error: the title is too long (${title.length} characters); use 2-5 words.` };
  return {
    title,
    summary: summary.length > MAX_SUMMARY_CHARS ? `${summary.slice(0, MAX_SUMMARY_CHARS - 1)}…` : summary,
  };
}

/** What a code turn's tools work on: the app's files in memory and its name. */
export interface ToolState {
  files: FileMap;
  title?: string;
  summary?: string;
}

export interface ToolOutcome {
  output: string;
  isError: boolean;
  /** A file the call created or edited. */
  changed?: string;
}

/** One tool: what Claude is told of it, and what a call does to the turn's state. */
export interface CodeTool {
  definition: Tool | ToolTextEditor20250728;
  run(input: unknown, state: ToolState): ToolOutcome;
}

const textEditor: CodeTool = {
  definition: TEXT_EDITOR_TOOL,
  run(input, state) {
    const r = runTextEditor(state.files, input);
    state.files = r.files;
    return { output: r.output, isError: r.isError, ...(r.changed ? { changed: r.changed } : {}) };
  },
};

const setAppInfo: CodeTool = {
  definition: SET_APP_INFO_TOOL,
  run(input, state) {
    const info = parseAppInfo(input);
    if ('error' in info) return { output: info.error, isError: true };
    state.title = info.title;
    state.summary = info.summary;
    return { output: `Saved: "${info.title}".`, isError: false };
  },
};

/** Every tool a code turn declares, found by name. The system block's cache breakpoint covers them (tools precede system). */
export const CODE_TOOLS: CodeTool[] = [textEditor, setAppInfo];
const BY_NAME = new Map(CODE_TOOLS.map((t) => [t.definition.name, t]));

export function findTool(name: string): CodeTool | undefined {
  return BY_NAME.get(name);
}
