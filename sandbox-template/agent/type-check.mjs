// The type check, kept warm inside the sandbox: TypeScript's own API runs its compiler as a
// server process (started here, so it sees what `tsc` would: the app and the template) and
// keeps the app's program between checks. A check tells it which files of src/ changed since
// the last one (by content, whoever wrote them) and asks for the diagnostics `tsc --noEmit`
// reports; unchanged files, React's types and the libraries are not read again. Anything
// unexpected answers `{ fallback }`, and the bot runs the command-line `tsc` instead.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ERROR = 1; // DiagnosticCategory.Error
/** Opened beside the app's project: the compiler shares parsed files between the two, so the libraries' types are read at boot. */
const LIBRARIES = join(dirname(fileURLToPath(import.meta.url)), 'warm-types', 'tsconfig.json');
/** After this many failures the API is left alone: every check is the command-line tsc's. */
const MAX_FAILURES = 3;
/** A check that takes longer has hung: the server is closed and the command-line tsc answers. */
const DEADLINE_MS = 15_000;

/** Every regular file under `dir` (paths relative to `root`, forward slashes) -> its text. */
async function readTree(root, dir, out = new Map()) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await readTree(root, full, out);
    else if (entry.isFile()) out.set(relative(root, full).split(sep).join('/'), await readFile(full, 'utf8'));
  }
  return out;
}

/** 1-based line and column of a UTF-16 offset (the API's positions) in `text`. */
function lineColumn(text, pos) {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < pos; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: pos - start + 1 };
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
  return lines.join('\n');
}

export class TypeChecker {
  #root;
  #config;
  #api;
  #snapshot;
  /** src/ as the compiler last read it: path -> text. */
  #seen = new Map();
  #queue = Promise.resolve();
  #failures = 0;

  constructor(root) {
    this.#root = root;
    this.#config = join(root, 'tsconfig.json');
  }

  /** Loads the program ahead of the first check (at boot, so that check is an update). */
  warm() {
    this.#serial(() => this.#open()).catch(() => undefined);
  }

  /** `{ errors: [{ file, line, column, message }] }` (file relative to the app root), or `{ fallback: why }`. */
  check() {
    return this.#serial(async () => {
      if (this.#failures >= MAX_FAILURES) return { fallback: 'the type-check server failed before' };
      let timer;
      const deadline = new Promise((_, fail) => {
        timer = setTimeout(() => fail(new Error(`no answer within ${DEADLINE_MS} ms`)), DEADLINE_MS);
      });
      try {
        const work = this.#open().then(() => this.#diagnose());
        return { errors: await Promise.race([work, deadline]) };
      } catch (err) {
        this.#failures++;
        await this.close();
        return { fallback: String(err?.message ?? err) };
      } finally {
        clearTimeout(timer);
      }
    });
  }

  async close() {
    const api = this.#api;
    this.#api = undefined;
    this.#snapshot = undefined;
    this.#seen = new Map();
    await api?.close().catch(() => undefined);
  }

  #serial(task) {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #open() {
    if (this.#api) return;
    // Read before the compiler reads: a write in between shows as a change at the next check.
    const seen = await readTree(this.#root, join(this.#root, 'src'));
    const { API } = await import('typescript/unstable/async');
    const api = new API({ cwd: this.#root });
    try {
      this.#snapshot = await api.updateSnapshot({ openProjects: [LIBRARIES, this.#config] });
    } catch (err) {
      await api.close().catch(() => undefined);
      throw err;
    }
    this.#api = api;
    this.#seen = seen;
  }

  async #diagnose() {
    const now = await readTree(this.#root, join(this.#root, 'src'));
    const abs = (rel) => join(this.#root, rel);
    const changed = [...now]
      .filter(([f, text]) => this.#seen.has(f) && this.#seen.get(f) !== text)
      .map(([f]) => abs(f));
    const created = [...now.keys()].filter((f) => !this.#seen.has(f)).map(abs);
    const deleted = [...this.#seen.keys()].filter((f) => !now.has(f)).map(abs);
    if (changed.length + created.length + deleted.length > 0) {
      const previous = this.#snapshot;
      this.#snapshot = await this.#api.updateSnapshot({ fileChanges: { changed, created, deleted } });
      this.#seen = now;
      await previous?.dispose().catch(() => undefined);
    }
    const project = this.#snapshot.getProject(this.#config);
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
    const texts = new Map();
    const textOf = async (file) => {
      const rel = relative(this.#root, file).split(sep).join('/');
      if (now.has(rel)) return now.get(rel);
      if (!texts.has(file)) texts.set(file, await readFile(file, 'utf8').catch(() => ''));
      return texts.get(file);
    };
    const errors = [];
    for (const d of [...early, ...late]) {
      if (d.category !== ERROR) continue;
      const message = messageOf(d);
      if (!d.fileName) {
        errors.push({ file: '', line: 0, column: 0, message });
        continue;
      }
      const { line, column } = lineColumn(await textOf(d.fileName), d.pos);
      errors.push({ file: relative(this.#root, d.fileName).split(sep).join('/'), line, column, message });
    }
    return errors;
  }
}
