import { caseTwin, checkAppPath, checkFileCount, checkFileSize } from '../core/files.ts';
import type { FileMap } from '../core/ports/index.ts';

/**
 * Executes one call of Anthropic's text editor tool (`str_replace_based_edit_tool`,
 * `text_editor_20250728`) against an app's files held in memory. Pure: never mutates `files`;
 * every refusal is returned as an error text for the model, never thrown.
 */
export interface EditResult {
  /** The file map after the call (the same object when nothing changed). */
  files: FileMap;
  /** The tool_result text sent back to the model. */
  output: string;
  isError: boolean;
  /** The path written, when the call created or edited a file. */
  changed?: string;
}

const COMMANDS = ['view', 'create', 'str_replace', 'insert'] as const;

export function runTextEditor(files: FileMap, input: unknown): EditResult {
  const fail = (output: string): EditResult => ({ files, output, isError: true });
  if (typeof input !== 'object' || input === null)
    return fail('Error: the tool input must be an object with a "command".');
  const args = input as Record<string, unknown>;
  const command = args['command'];
  switch (command) {
    case 'view':
      return view(files, args);
    case 'create':
      return create(files, args);
    case 'str_replace':
      return strReplace(files, args);
    case 'insert':
      return insert(files, args);
    default:
      return fail(`Error: unknown command ${JSON.stringify(command)}. Allowed commands: ${COMMANDS.join(', ')}.`);
  }
}

// ------------------------------------------------------------------ commands

function view(files: FileMap, args: Record<string, unknown>): EditResult {
  const fail = (output: string): EditResult => ({ files, output, isError: true });
  const raw = args['path'];
  if (typeof raw !== 'string') return fail('Error: parameter `path` is required for command: view');

  // Directories are not file paths (checkAppPath wants a file type), so they are recognised first.
  const dir = directoryOf(files, raw);
  if (dir !== undefined) {
    if (args['view_range'] !== undefined) return fail('Error: `view_range` is not allowed when `path` is a directory.');
    const paths = Object.keys(files)
      .filter((p) => p.startsWith(`${dir}/`))
      .sort();
    const lines = paths.map((p) => `${p} (${Buffer.byteLength(files[p] ?? '', 'utf8')} bytes)`);
    return { files, output: `Files under ${dir}/:\n${lines.join('\n')}`, isError: false };
  }

  const checked = checkAppPath(raw);
  if ('error' in checked) return fail(`Error: ${checked.error}`);
  const path = checked.path;
  const text = files[path];
  if (text === undefined) return fail(`Error: the path ${path} does not exist. ${existingHint(files)}`);

  const lines = splitLines(text);
  let start = 1;
  let end = lines.length;
  const range = args['view_range'];
  if (range !== undefined) {
    if (!Array.isArray(range) || range.length !== 2 || !range.every((n) => Number.isInteger(n))) {
      return fail('Error: `view_range` must be two integers [start_line, end_line] (end_line -1 = to the end).');
    }
    const [s, e] = range as [number, number];
    if (s < 1 || s > Math.max(lines.length, 1)) {
      return fail(
        `Error: invalid view_range [${s}, ${e}]: start_line must be between 1 and ${lines.length} (the file has ${lines.length} lines).`,
      );
    }
    if (e !== -1 && e < s) return fail(`Error: invalid view_range [${s}, ${e}]: end_line must be >= start_line or -1.`);
    start = s;
    end = e === -1 ? lines.length : Math.min(e, lines.length);
  }
  return { files, output: numbered(lines.slice(start - 1, end), start), isError: false };
}

function create(files: FileMap, args: Record<string, unknown>): EditResult {
  const fail = (output: string): EditResult => ({ files, output, isError: true });
  const checked = checkPath(files, args, 'create');
  if ('error' in checked) return fail(checked.error);
  const text = args['file_text'];
  if (typeof text !== 'string') return fail('Error: parameter `file_text` is required for command: create');
  const path = checked.path;
  const twin = caseTwin(files, path);
  if (twin)
    return fail(
      `Error: ${twin} already exists and differs from ${path} only in letter case; edit ${twin} instead, or pick another name`,
    );
  const tooMany = checkFileCount(files, path);
  if (tooMany) return fail(`Error: ${tooMany}`);
  const tooBig = checkFileSize(path, text);
  if (tooBig) return fail(`Error: ${tooBig}`);
  const existed = path in files;
  return {
    files: { ...files, [path]: text },
    output: existed ? `File ${path} overwritten.` : `File created successfully at: ${path}`,
    isError: false,
    changed: path,
  };
}

function strReplace(files: FileMap, args: Record<string, unknown>): EditResult {
  const fail = (output: string): EditResult => ({ files, output, isError: true });
  const checked = checkPath(files, args, 'str_replace');
  if ('error' in checked) return fail(checked.error);
  const path = checked.path;
  const oldStr = args['old_str'];
  const newStr = args['new_str'] ?? '';
  if (typeof oldStr !== 'string' || oldStr === '')
    return fail('Error: parameter `old_str` is required for command: str_replace and must not be empty');
  if (typeof newStr !== 'string') return fail('Error: parameter `new_str` must be a string');
  const text = files[path];
  if (text === undefined) return fail(`Error: the path ${path} does not exist. ${existingHint(files)}`);

  const count = countOccurrences(text, oldStr);
  if (count === 0) {
    return fail(
      `Error: No match found for replacement text in ${path}. Please check your text and try again (view the file to see its exact current content).`,
    );
  }
  if (count > 1) {
    return fail(
      `Error: Found ${count} matches for replacement text in ${path}. Please provide more context to make a unique match.`,
    );
  }
  const at = text.indexOf(oldStr);
  const next = text.slice(0, at) + newStr + text.slice(at + oldStr.length);
  const tooBig = checkFileSize(path, next);
  if (tooBig) return fail(`Error: ${tooBig}`);
  const firstLine = text.slice(0, at).split('\n').length;
  return {
    files: { ...files, [path]: next },
    output: `The file ${path} has been edited. ${snippet(next, firstLine, newStr)}`,
    isError: false,
    changed: path,
  };
}

function insert(files: FileMap, args: Record<string, unknown>): EditResult {
  const fail = (output: string): EditResult => ({ files, output, isError: true });
  const checked = checkPath(files, args, 'insert');
  if ('error' in checked) return fail(checked.error);
  const path = checked.path;
  // text_editor_20250728 names the text `insert_text`; older versions used `new_str`.
  const insertText = args['insert_text'] ?? args['new_str'];
  const line = args['insert_line'];
  if (typeof insertText !== 'string') return fail('Error: parameter `insert_text` is required for command: insert');
  if (typeof line !== 'number' || !Number.isInteger(line))
    return fail('Error: parameter `insert_line` (an integer) is required for command: insert');
  const text = files[path];
  if (text === undefined) return fail(`Error: the path ${path} does not exist. ${existingHint(files)}`);

  const lineCount = splitLines(text).length;
  if (line < 0 || line > lineCount) {
    return fail(
      `Error: invalid insert_line ${line}: it must be between 0 and ${lineCount} (the number of lines in ${path}).`,
    );
  }
  const raw = text.split('\n');
  const added = insertText.endsWith('\n') ? insertText.slice(0, -1).split('\n') : insertText.split('\n');
  const next = [...raw.slice(0, line), ...added, ...raw.slice(line)].join('\n');
  const tooBig = checkFileSize(path, next);
  if (tooBig) return fail(`Error: ${tooBig}`);
  return {
    files: { ...files, [path]: next },
    output: `The file ${path} has been edited. ${snippet(next, line + 1, insertText)}`,
    isError: false,
    changed: path,
  };
}

// ------------------------------------------------------------------ helpers

function checkPath(
  files: FileMap,
  args: Record<string, unknown>,
  command: string,
): { path: string } | { error: string } {
  const raw = args['path'];
  if (typeof raw !== 'string') return { error: `Error: parameter \`path\` is required for command: ${command}` };
  const checked = checkAppPath(raw);
  if ('error' in checked) return { error: `Error: ${checked.error}` };
  if (directoryOf(files, checked.path) !== undefined) return { error: `Error: ${checked.path} is a directory` };
  return checked;
}

/** The normalised directory `raw` names ("src", "src/components"), if it is one that holds files. */
function directoryOf(files: FileMap, raw: string): string | undefined {
  const p = raw.trim().replaceAll('\\', '/');
  if (p.startsWith('/')) return undefined;
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts[0] !== 'src' || parts.includes('..')) return undefined;
  const dir = parts.join('/');
  if (dir === 'src') return dir;
  return Object.keys(files).some((f) => f.startsWith(`${dir}/`)) ? dir : undefined;
}

/** Lines as a reader counts them: a trailing newline does not start an extra line. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** `cat -n` style, which is what Claude's text editor tool expects to see. */
function numbered(lines: string[], first: number): string {
  return lines.map((l, i) => `${String(first + i).padStart(6)}\t${l}`).join('\n');
}

/** A few lines around an edit, so the model can confirm it without another `view`. */
function snippet(text: string, firstLine: number, inserted: string): string {
  const lines = splitLines(text);
  const span = inserted.split('\n').length;
  const from = Math.max(1, firstLine - 3);
  const to = Math.min(lines.length, firstLine + span + 3);
  return `Here is the result around the edit:\n${numbered(lines.slice(from - 1, to), from)}`;
}

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) count++;
  return count;
}

function existingHint(files: FileMap): string {
  const paths = Object.keys(files).sort();
  return paths.length ? `Existing files: ${paths.join(', ')}` : 'The app has no files yet.';
}
