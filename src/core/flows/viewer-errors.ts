// Errors viewers' browsers hit in an app (reported through the gateway by the template's
// reporter script): judged, cleaned for a chat note, deduplicated per app version, and kept
// until someone presses "Fix it". Everything in a report is hostile input: anyone with the link
// can send one, whatever they like (the gateway only makes sure it came from one of the app's
// own origins), so a report is kept only if it looks like an error of the app's own code, only a
// cleaned one-line message and bare code locations in the app's files are ever shown, and the
// model gets them as quoted data (`ChangeRequest` of kind `fix`), never as its instruction.
import { createHash } from 'node:crypto';
import type { ChangeRequest, ViewerReport } from '../ports/index.ts';

/** What the gateway hands on (bounded to 4 KB and shape-checked there). */
export interface ViewerErrorReport {
  message: string;
  stack?: string;
}

/** A report as the bot uses it. */
export interface ViewerError extends ViewerReport {
  /** One line, no backticks, control or format characters, at most MESSAGE_CHARS: safe in inline code. */
  message: string;
  /** The first frame in the app's own source, e.g. `src/App.tsx:12`, when the stack has one. */
  frame?: string;
  /** Up to 5 code locations in the app's own files (`src/App.tsx:12:9`, `assets/index-x.js:1:2`), origins and queries cut. */
  locations: string[];
  /** Same error, same key: the normalised message and the top location. */
  key: string;
  /** A short id of the key, for the note's Fix it button (which fixes exactly that error). */
  id: string;
}

/** Longest message kept: an error's message is short; a longer one is dropped, not cut. */
export const MESSAGE_CHARS = 200;
/** Distinct errors noted per app version at most: a page throwing new messages cannot flood the thread. */
export const MAX_NOTES_PER_VERSION = 5;
/** Apps whose report state is kept (the oldest are forgotten first). */
const MAX_APPS = 10_000;

/** A location in a stack frame: a script path, a line and maybe a column (after its URL's origin). */
const LOCATION = /([A-Za-z0-9_@~+.-]+(?:\/[A-Za-z0-9_@~+.-]+)*\.(?:[cm]?[jt]sx?|vue|svelte)):(\d{1,7})(?::(\d{1,7}))?/g;

/** A file the app serves: its source, its build's assets, its dependencies (the dev view's `node_modules/.vite/deps`). */
const OWN_FILE = /^(?:dev\/)?((?:src|assets|node_modules)\/.+)$/;

/**
 * The report of app `appId` cleaned, or undefined when it does not look like an error of the
 * app: no message, a message over MESSAGE_CHARS, or a stack with no frame in the app's own files
 * (its source under `src/`, its built `assets/`, its `node_modules/`). Frames of anything else
 * (another app's path, another site's script, an extension) are left out of the locations.
 */
export function readViewerError(report: ViewerErrorReport, appId: string): ViewerError | undefined {
  const message = oneLine(report.message);
  if (!message || [...message].length > MESSAGE_CHARS) return undefined;
  const locations: string[] = [];
  let frame: string | undefined;
  let own = false;
  // Origins first (`http://host:8787/apps/x/dev/src/App.tsx?t=1:12:9` -> `/apps/x/dev/src/App.tsx?t=1:12:9`), then queries.
  const stack = (report.stack ?? '')
    .slice(0, 4000)
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^/\s)]*/gi, '')
    .replace(/\?[^\s:)]*/g, '')
    .replace(/(^|\s)[^\s@/]*@(?=\/)/gm, '$1'); // Firefox and Safari: `name@url`
  for (const m of stack.matchAll(LOCATION)) {
    // The app's files as its pages load them: under `/apps/<id>/` (path links; `dev/` for the
    // creator's view) or at the root of its own origin, never below any other folder.
    const under = m[1]!.startsWith(`apps/${appId}/`) ? m[1]!.slice(`apps/${appId}/`.length) : m[1]!;
    const path = OWN_FILE.exec(under)?.[1];
    if (!path) continue;
    own = true;
    if (locations.length === 5) break;
    locations.push(`${path}:${m[2]}${m[3] ? `:${m[3]}` : ''}`);
    if (!frame && path.startsWith('src/')) frame = `${path}:${m[2]}`;
  }
  if (report.stack?.trim() && !own) return undefined;
  const top = locations[0]?.replace(/:\d+$/, '') ?? '';
  const key = `${message.toLowerCase().replace(/\d+/g, '0')}\n${top}`;
  const id = createHash('sha256').update(key).digest('base64url').slice(0, 10);
  return { message, ...(frame ? { frame } : {}), locations, key, id };
}

/** What Fix it asks of the model: the report as data, nothing of the note's words as the instruction. */
export function fixRequest(e: ViewerError): ChangeRequest {
  return { kind: 'fix', report: { message: e.message, locations: e.locations } };
}

/** How a change is named in chat and in the version list: the person's words, or which report a fix was for. */
export function changeLabel(change: ChangeRequest): string {
  return change.kind === 'change' ? change.instruction : `Fix it for a viewer's error report: ${change.report.message}`;
}

/**
 * Per app, in memory (a restart forgets it: a report after one notes again, and an older note's
 * Fix it then finds nothing to fix): the version the reports are about and the errors noted for
 * it. Only a noted error can be fixed (what Fix it runs is what the thread was shown), each once.
 * A new version starts afresh.
 */
export class ViewerErrorNotes {
  private readonly apps = new Map<
    string,
    { version: number; noted: Map<string, ViewerError>; latest?: ViewerError; fixed: Set<string> }
  >();

  /** Records a report on `version`; true when it should be noted (first of its kind there, under the cap). */
  record(appId: string, version: number, error: ViewerError): boolean {
    let state = this.apps.get(appId);
    if (!state || state.version !== version) {
      state = { version, noted: new Map(), fixed: new Set() };
      this.apps.delete(appId);
      this.apps.set(appId, state);
      if (this.apps.size > MAX_APPS) this.apps.delete(this.apps.keys().next().value!);
    }
    if (state.noted.has(error.id) || state.noted.size >= MAX_NOTES_PER_VERSION) return false;
    state.noted.set(error.id, error);
    state.latest = error;
    return true;
  }

  /** The note could not be posted: the next report of it tries again. */
  unnote(appId: string, error: ViewerError): void {
    const state = this.apps.get(appId);
    state?.noted.delete(error.id);
    if (state?.latest === error) state.latest = undefined;
  }

  /**
   * The noted error `id` on `version` (a note's Fix it), or the latest noted one (`/vibe fix`),
   * handed out once: a second press finds none.
   */
  take(appId: string, version: number, id?: string): ViewerError | undefined {
    const state = this.apps.get(appId);
    if (!state || state.version !== version) return undefined;
    const error = id === undefined ? state.latest : state.noted.get(id);
    if (!error || state.fixed.has(error.id)) return undefined;
    state.fixed.add(error.id);
    return error;
  }
}

/** One line with nothing that could end inline code or reach a renderer as markup or a control. */
function oneLine(text: string): string {
  return text
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}`]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
