import { isAppId } from '../ids.ts';
// Parses the text after `/vibe` into a command. Every button the bot shows has a text twin
// here, so the terminal (which has no buttons) can do everything Slack and Discord can.

export const MAX_PROMPT_CHARS = 4000;

export type Command =
  | { kind: 'create'; prompt: string }
  /** `empty`: a bare `/vibe` (inside an ordinary thread it builds from the discussion). */
  | { kind: 'help'; reason?: string; empty?: true }
  | { kind: 'gallery'; cursor?: string }
  | { kind: 'mine'; cursor?: string }
  | { kind: 'usage' }
  | { kind: 'export'; appId?: string }
  | { kind: 'versions'; appId?: string }
  | { kind: 'undo'; appId?: string }
  /** The text twin of a viewer-error note's "Fix it" button. */
  | { kind: 'fix'; appId?: string }
  | { kind: 'restore'; version: number; appId?: string }
  | { kind: 'delete'; appId?: string; confirmed: boolean }
  /** The text twin of an interrupted build's Retry button. */
  | { kind: 'retry'; id: string }
  /** A new app of the caller's from another app's latest version (the Remix button's twin). */
  | { kind: 'remix'; appId: string }
  /** The app's shared state (`@vibe/shared`): its size and items, or (`reset`) clearing it. */
  | { kind: 'data'; appId?: string }
  | { kind: 'data-reset'; appId?: string; confirmed: boolean }
  | { kind: 'invalid'; message: string };

// Typos of these get help instead of an app. ('fix' is not among them: too many short words are two edits from it.)
const SUBCOMMANDS = [
  'help',
  'gallery',
  'list',
  'mine',
  'usage',
  'export',
  'versions',
  'undo',
  'restore',
  'delete',
  'remix',
  'data',
] as const;

export function parseCommand(input: string): Command {
  const text = input.trim();
  if (text === '')
    return {
      kind: 'help',
      reason: 'Tell me what to build, for example `/vibe a pomodoro timer with a dark theme`.',
      empty: true,
    };
  const [first = '', ...rest] = text.split(/\s+/);
  const word = first.toLowerCase();
  const args = rest;

  switch (word) {
    case 'help':
    case '--help':
    case '-h':
      return args.length === 0 ? { kind: 'help' } : createOrRefuse(text);
    case 'gallery':
    case 'list':
      if (args.length > 1) return createOrRefuse(text);
      return { kind: 'gallery', cursor: args[0] };
    case 'mine':
      if (args.length > 1) return createOrRefuse(text);
      return { kind: 'mine', cursor: args[0] };
    case 'usage':
      return args.length === 0 ? { kind: 'usage' } : createOrRefuse(text);
    case 'versions':
    case 'undo':
    case 'export':
    case 'fix':
      if (args.length > 1 || (args[0] !== undefined && !isAppId(args[0]))) return createOrRefuse(text);
      return { kind: word, appId: args[0] };
    case 'retry':
      if (args.length !== 1 || !isAppId(args[0]!)) return createOrRefuse(text);
      return { kind: 'retry', id: args[0]! };
    case 'remix':
      if (args.length === 0)
        return {
          kind: 'invalid',
          message: 'Which app? For example `/vibe remix k3j9x0q2ab` (its id is in its links).',
        };
      if (args.length > 1 || !isAppId(args[0]!)) return createOrRefuse(text);
      return { kind: 'remix', appId: args[0]! };
    case 'restore': {
      const raw = args[0]?.replace(/^v/i, '');
      if (args.length === 0)
        return { kind: 'invalid', message: 'Which version? For example `/vibe restore 2` (see `/vibe versions`).' };
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1)
        return { kind: 'invalid', message: `"${args[0]}" is not a version number. For example \`/vibe restore 2\`.` };
      if (args.length > 2 || (args[1] !== undefined && !isAppId(args[1]))) return createOrRefuse(text);
      return { kind: 'restore', version: n, appId: args[1] };
    }
    case 'data': {
      // `/vibe data [id]`, `/vibe data reset [id] [confirm]`
      const reset = args[0]?.toLowerCase() === 'reset';
      const confirmed = reset && args.at(-1)?.toLowerCase() === 'confirm';
      const ids = args.slice(reset ? 1 : 0, confirmed ? -1 : undefined);
      if (ids.length > 1 || (ids[0] !== undefined && !isAppId(ids[0]))) return createOrRefuse(text);
      return reset ? { kind: 'data-reset', appId: ids[0], confirmed } : { kind: 'data', appId: ids[0] };
    }
    case 'delete': {
      const confirmed = args.at(-1)?.toLowerCase() === 'confirm';
      const ids = confirmed ? args.slice(0, -1) : args;
      if (ids.length > 1 || (ids[0] !== undefined && !isAppId(ids[0]))) return createOrRefuse(text);
      return { kind: 'delete', appId: ids[0], confirmed };
    }
  }
  // One word that is almost a subcommand (a typo) or looks like a flag gets help, not an app.
  if (
    rest.length === 0 &&
    (word.startsWith('-') || SUBCOMMANDS.some((c) => editDistance(c, word) <= 2 && word.length >= 3))
  ) {
    const guess = SUBCOMMANDS.find((c) => editDistance(c, word) <= 2);
    return { kind: 'help', reason: `Unknown command "${first}".${guess ? ` Did you mean \`/vibe ${guess}\`?` : ''}` };
  }
  return createOrRefuse(text);
}

/** A create from a structured command (Discord's `/vibe create prompt:`): same checks as typed text. */
export function createCommand(prompt: string): Command {
  const text = prompt.trim();
  if (text === '')
    return { kind: 'help', reason: 'Tell me what to build, for example `/vibe create prompt: a pomodoro timer`.' };
  return createOrRefuse(text);
}

function createOrRefuse(prompt: string): Command {
  if (prompt.length > MAX_PROMPT_CHARS)
    return {
      kind: 'invalid',
      message: `That prompt is ${prompt.length} characters long; the limit is ${MAX_PROMPT_CHARS}. Please shorten it.`,
    };
  return { kind: 'create', prompt };
}

/** Checks a refinement instruction typed in a thread. Returns an error message or undefined. */
export function checkInstruction(text: string): string | undefined {
  if (text.trim() === '') return 'Say what to change, for example "make the buttons bigger".';
  if (text.length > MAX_PROMPT_CHARS)
    return `That message is ${text.length} characters long; the limit is ${MAX_PROMPT_CHARS}.`;
  return undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}
