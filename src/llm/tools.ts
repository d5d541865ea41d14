import type { Tool, ToolTextEditor20250728, ToolUnion } from '@anthropic-ai/sdk/resources/messages';

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

/** Every tool a code turn declares. The system block's cache breakpoint covers them (tools precede system). */
export const CODE_TOOLS: ToolUnion[] = [TEXT_EDITOR_TOOL, SET_APP_INFO_TOOL];

const MAX_TITLE_CHARS = 60;
const MAX_SUMMARY_CHARS = 200;

/** Validates a `set_app_info` input: the app info, or an error text for the model. */
export function parseAppInfo(input: unknown): { title: string; summary: string } | { error: string } {
  const o = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const title = typeof o['title'] === 'string' ? o['title'].replace(/\s+/g, ' ').trim() : '';
  const summary = typeof o['summary'] === 'string' ? o['summary'].replace(/\s+/g, ' ').trim() : '';
  if (!title) return { error: 'Error: `title` is required (2-5 words).' };
  if (!summary) return { error: 'Error: `summary` is required (one line).' };
  if (title.length > MAX_TITLE_CHARS) return { error: `Error: the title is too long (${title.length} characters); use 2-5 words.` };
  return { title, summary: summary.length > MAX_SUMMARY_CHARS ? `${summary.slice(0, MAX_SUMMARY_CHARS - 1)}…` : summary };
}
