// The type check, kept warm inside the sandbox: TypeScript's own API runs its compiler as a
// server process (started here, so it sees what `tsc` would: the app and the template) and
// keeps the app's program between checks. A check tells it which files of src/ changed since
// the last one (by content, whoever wrote them) and asks for the diagnostics `tsc --noEmit`
// reports; unchanged files, React's types and the libraries are not read again. Anything
// unexpected answers `{ fallback }`, and the bot runs the command-line `tsc` instead. The agent
// never runs a check beside a write (agent.mjs), so the compiler reads what was listed here.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ERROR = 1; // DiagnosticCategory.Error
/** Opened beside the app's project: the compiler shares parsed files between the two, so the libraries' types are read at boot. */
const LIBRARIES = join(dirname(fileURLToPath(import.meta.url)), 'warm-types', 'tsconfig.json');
/** After this many failures the API is left alone: every check is the command-line tsc's. */
const MAX_FAILURES = 3;
/** Opening or checking that takes longer has hung: the compiler is killed and the command-line tsc answers. */
const DEADLINE_MS = 15_000;
/** What one answer carries at most (the model's code decides how many errors there are). */
const MAX_ERRORS = 500;
const MAX_MESSAGE = 4000;

const missing = (err) => err?.code === 'ENOENT' || err?.code === 'ENOTDIR';

/**
 * Every regular file under `dir` (paths relative to `root`, forward slashes) -> its text. Dot
 * files are skipped (tsc's `include` skips them too; a write's temp files are named so), and so
 * is anything removed while it is read.
 */
async function readTree(root, dir, out = new Map()) {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err) => (missing(err) ? [] : Promise.reject(err)));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await readTree(root, full, out);
    else if (entry.isFile()) {
      const text = await readFile(full, 'utf8').catch((err) => (missing(err) ? undefined : Promise.reject(err)));
      if (text !== undefined) out.set(relative(root, full).split(sep).join('/'), text);
    }
  }
  return out;
}

/** 1-based line and column of a UTF-16 offset (the API's positions), from the file's line starts. */
function lineColumn(starts, pos) {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= pos) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: pos - starts[lo] + 1 };
}

function lineStarts(text) {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** "TS2322: Type … ." and its chain below it, indented lines trimmed, as parseTscOutput makes them. */
function messageOf(d) {
  const lines = [`TS${d.code}: ${d.text}`];
  const walk = (chain) => {
    for (const c of chain ?? []) {
      lines.push(c.text.trim());
      walk(c.messageChain);
    }
  };
  walk(d.messageChain);
  return lines.join('\n').slice(0, MAX_MESSAGE);
}

export class TypeChecker {
  #root;
  #config;
  #api;
  /** The compiler being started, until its program is loaded. */
  #opening;
  #snapshot;
  /** src/ as the compiler last read it: path -> text. */
  #seen = new Map();
  /** Bumped whenever the compiler is dropped: work begun before that writes nothing back. */
  #generation = 0;
  #queue = Promise.resolve();
  #failures = 0;

  #deadlineMs;
  #loadApi;

  /** `opts` are for tests: another deadline, another API module. */
  constructor(root, opts = {}) {
    this.#root = root;
    this.#config = join(root, 'tsconfig.json');
    this.#deadlineMs = opts.deadlineMs ?? DEADLINE_MS;
    this.#loadApi = opts.loadApi ?? (() => import('typescript/unstable/async'));
  }

  /** Loads the program ahead of the first check (at boot, so that check is an update). */
  warm() {
    this.#serial(() => this.#bounded(() => this.#open())).catch(() => undefined);
  }

  /** `{ errors: [{ file, line, column, message }] }` (file relative to the app root), or `{ fallback: why }`. */
  check() {
    return this.#serial(async () => {
      if (this.#failures >= MAX_FAILURES) return { fallback: 'the type-check server failed before' };
      try {
        return { errors: await this.#bounded(() => this.#open().then(() => this.#diagnose())) };
      } catch (err) {
        return { fallback: String(err?.message ?? err) };
      }
    });
  }

  /** Kills the compiler (it may not be answering), without waiting for it. */
  close() {
    this.#generation++;
    for (const api of [this.#api, this.#opening]) {
      if (!api) continue;
      api.client?.process?.kill('SIGKILL'); // the API's own close waits for answers a hung compiler never gives
      void api.close().catch(() => undefined);
    }
    this.#api = undefined;
    this.#opening = undefined;
    this.#snapshot = undefined;
    this.#seen = new Map();
  }

  #serial(task) {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** `work()` within the deadline; a failure or a hang counts, and drops the compiler. */
  async #bounded(work) {
    let timer;
    const deadline = new Promise((_, fail) => {
      timer = setTimeout(() => fail(new Error(`no answer within ${this.#deadlineMs} ms`)), this.#deadlineMs);
    });
    try {
      return await Promise.race([work(), deadline]);
    } catch (err) {
      this.#failures++;
      this.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async #open() {
    if (this.#api) return;
    const generation = this.#generation;
    // Read before the compiler reads: a write in between shows as a change at the next check.
    const seen = await readTree(this.#root, join(this.#root, 'src'));
    const { API } = await this.#loadApi();
    const api = new API({ cwd: this.#root });
    this.#opening = api; // killed by close() if it hangs
    let snapshot;
    try {
      snapshot = await api.updateSnapshot({ openProjects: [LIBRARIES, this.#config] });
    } catch (err) {
      api.client?.process?.kill('SIGKILL');
      throw err;
    } finally {
      if (this.#opening === api) this.#opening = undefined;
    }
    if (generation !== this.#generation) throw new Error('the compiler was dropped while it opened');
    this.#api = api;
    this.#snapshot = snapshot;
    this.#seen = seen;
  }

  async #diagnose() {
    const generation = this.#generation;
    const api = this.#api;
    const now = await readTree(this.#root, join(this.#root, 'src'));
    const abs = (rel) => join(this.#root, rel);
    const changed = [...now]
      .filter(([f, text]) => this.#seen.has(f) && this.#seen.get(f) !== text)
      .map(([f]) => abs(f));
    const created = [...now.keys()].filter((f) => !this.#seen.has(f)).map(abs);
    const deleted = [...this.#seen.keys()].filter((f) => !now.has(f)).map(abs);
    let snapshot = this.#snapshot;
    if (changed.length + created.length + deleted.length > 0) {
      snapshot = await api.updateSnapshot({ fileChanges: { changed, created, deleted } });
      if (generation !== this.#generation) throw new Error('the compiler was dropped during the check');
      const previous = this.#snapshot;
      this.#snapshot = snapshot;
      this.#seen = now;
      void previous?.dispose().catch(() => undefined);
    }
    const project = snapshot.getProject(this.#config);
    if (!project) throw new Error('the compiler has no project for tsconfig.json');
    const program = project.program;
    // What `tsc --noEmit` reports, in its order: semantic errors only when the syntax is sound.
    const early = [
      ...(await program.getConfigFileParsingDiagnostics()),
      ...(await program.getProgramDiagnostics()),
      ...(await program.getSyntacticDiagnostics()),
    ];
    const late = early.some((d) => d.category === ERROR)
      ? []
      : [...(await program.getGlobalDiagnostics()), ...(await program.getSemanticDiagnostics())];
    const starts = new Map();
    const startsOf = async (file) => {
      if (!starts.has(file)) {
        const rel = relative(this.#root, file).split(sep).join('/');
        const text = now.get(rel) ?? (await readFile(file, 'utf8').catch(() => ''));
        starts.set(file, lineStarts(text));
      }
      return starts.get(file);
    };
    const errors = [];
    for (const d of [...early, ...late]) {
      if (d.category !== ERROR) continue;
      if (errors.length === MAX_ERRORS) break;
      const message = messageOf(d);
      if (!d.fileName) {
        errors.push({ file: '', line: 0, column: 0, message });
        continue;
      }
      const { line, column } = lineColumn(await startsOf(d.fileName), d.pos);
      errors.push({ file: relative(this.#root, d.fileName).split(sep).join('/'), line, column, message });
    }
    return errors;
  }
}
