import { posix } from 'node:path';
import type { CheckError, FileMap } from '../core/ports/index.ts';
import { scanClassUrls } from './class-scan.ts';
import { SHARED_MODULE } from '../core/ports/shared.ts';
import { scanCss, type CssFinding } from './css-scan.ts';
import { lineIndex } from './line-index.ts';
import { nestingDepth } from './nesting-depth.ts';
import { ScriptParser, UnparseableError } from './script-parser.ts';

// Everything under src/ was written by a model from a stranger's words, and the build tools
// (Vite, Tailwind, esbuild, tsc) do far more than compile it: `@plugin` runs a module in Node,
// `?raw` inlines any file into the public bundle, `import.meta.glob` reads folders, and a Tailwind
// class such as `bg-[url(../../.env)]` in any file (a comment is enough) makes Vite inline that
// file into the built CSS. So before a file map is written into a sandbox, every import, every
// CSS directive and url(), and every url() in a class is checked here, and anything that would
// reach outside `src/` (or run at build time) is refused as a check error the model can repair.
// The template's build guard (sandbox-template/vibe-plugins/source-guard.ts) stands behind it.

/** File names a build tool reads as configuration when they sit beside the source. */
const CONFIG_NAMES =
  /^(package\.json|[tj]sconfig(\..+)?\.json|(vite|vitest|postcss|tailwind|babel|rolldown|rollup|esbuild)\.config\..+)$/i;
/** Relative imports tsc does not see (Vite's types declare them as modules): they must exist. */
const ASSET = /\.(css|svg|json|md|png|jpe?g|gif|webp)$/;
/** A package name and subpath: npm's name grammar, path segments without `.` or `..`. */
const BARE = /^(@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;
/** `import.meta` members an app may use: Vite's env and HMR objects. */
const IMPORT_META_OK = /^\s*\.\s*(env|hot)\b/;
/** Deeper bracket nesting than any real app has: refused before it reaches the parser. */
export const MAX_NESTING = 500;

/** "react-dom/client" -> "react-dom", "@scope/pkg/x" -> "@scope/pkg". */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/**
 * What is wrong with importing `specifier` from `file`, or undefined when it is fine.
 * `libraries` are the package names the app may import (libraries.json).
 */
export function vetSpecifier(file: string, specifier: string, files: FileMap, libraries: string[]): string | undefined {
  if (/[?#]/.test(specifier))
    return `Import '${specifier}' carries a query or hash ('?raw', '?url', '?inline', '?worker', '#…'); that is not allowed. Import the module itself, e.g. './data'`;
  if (/[\0\\:]/.test(specifier))
    return `Import '${specifier}' is not allowed: only relative paths inside src/ and the libraries listed in the system prompt can be imported`;
  if (specifier.startsWith('/'))
    return `Absolute import '${specifier}' is not allowed; use a relative path like './Timer'`;
  if (specifier.startsWith('.')) {
    const target = posix.normalize(posix.join(posix.dirname(file), specifier));
    if (!target.startsWith('src/'))
      return `Import '${specifier}' resolves to ${target}, outside src/; every import must stay inside src/`;
    if (ASSET.test(target) && !(target in files)) return `Cannot find file '${specifier}' (${target} does not exist)`;
    return undefined;
  }
  // The template's own module (sandbox-template/vibe-shared/, an alias): that exact name only.
  if (specifier === SHARED_MODULE) return undefined;
  const name = packageName(specifier);
  if (!libraries.includes(name))
    return `Package '${name}' is not available. The libraries you can import are: ${libraries.join(', ')}`;
  if (!BARE.test(specifier))
    return `Import '${specifier}' is not a plain package path; import '${name}' or one of its documented entry points`;
  return undefined;
}

async function vetScript(
  parser: ScriptParser,
  file: string,
  text: string,
  files: FileMap,
  libraries: string[],
): Promise<CheckError[]> {
  const at = lineIndex(text);
  const errors: CheckError[] = [];
  const add = (offset: number, message: string) => errors.push({ file, ...at(offset), message });
  const depth = nestingDepth(text);
  if (depth > MAX_NESTING) {
    add(
      0,
      `Brackets nest ${depth} levels deep (more than ${MAX_NESTING}); split the code into smaller functions and files`,
    );
    return errors;
  }
  let parsed;
  try {
    parsed = await parser.parse(file, text);
  } catch (err) {
    if (!(err instanceof UnparseableError)) throw err;
    add(0, `This file could not be checked (${err.message}); write it as plainer, smaller code`);
    return errors;
  }
  if (parsed.errors.length > 0) {
    // Unparseable means its imports cannot be known: nothing of it is written until it parses.
    const first = parsed.errors[0]!;
    add(first.start, `Syntax error: ${first.message}`);
    return errors;
  }
  for (const imp of parsed.imports) {
    const problem = vetSpecifier(file, imp.value, files, libraries);
    if (problem) add(imp.start + 1, problem); // + 1: the column of the name, not of its quote
  }
  for (const dyn of parsed.dynamicImports) {
    const raw = text.slice(dyn.start, dyn.end);
    const literal = /^(['"`])([^'"`\\$]*)\1$/.exec(raw);
    const problem = literal
      ? vetSpecifier(file, literal[2]!, files, libraries)
      : "import() needs a plain string path, e.g. import('./Chart'): a computed path could load files outside src/";
    if (problem) add(dyn.start + (literal ? 1 : 0), problem);
  }
  for (const meta of parsed.importMetas) {
    if (!IMPORT_META_OK.test(text.slice(meta.end, meta.end + 16))) {
      add(
        meta.start,
        'import.meta may only be used as import.meta.env or import.meta.hot (import.meta.glob and new URL(…, import.meta.url) read files at build time)',
      );
    }
  }
  return errors;
}

function vetCss(file: string, text: string, files: FileMap): CheckError[] {
  const at = lineIndex(text);
  return scanCss(text).flatMap((f: CssFinding) => {
    const problem = vetCssFinding(file, f, files);
    return problem ? [{ file, ...at(f.offset), message: problem }] : [];
  });
}

/** A url() target a build would read as a file: anything but data:, http(s): and #fragment. */
const isFileUrl = (target: string) => target !== '' && !/^(data:|https?:|#)/i.test(target);

/** Tailwind copies class values into the built CSS, where a url() would be read as a file. */
function vetClassUrls(file: string, text: string): CheckError[] {
  const at = lineIndex(text);
  return scanClassUrls(text)
    .filter((u) => isFileUrl(u.target))
    .map((u) => ({
      file,
      ...at(u.offset),
      message:
        `url(${u.target}) in a Tailwind class (an arbitrary value in [ ]) names a file: Tailwind copies it into the built CSS and the build would read that file. ` +
        'Classes may only use data:, https: or http: URLs. To show an image from src/, import it ' +
        "(import bg from './bg.svg') and use style={{ backgroundImage: `url(${bg})` }} or <img src={bg} />, " +
        'or write background-image: url(./bg.svg) in a CSS file under src/',
    }));
}

function vetCssFinding(file: string, f: CssFinding, files: FileMap): string | undefined {
  if (f.kind === 'at-rule') {
    if (['plugin', 'config', 'source'].includes(f.name))
      return `@${f.name} makes Tailwind load files or run code at build time; it is not allowed. Use Tailwind's built-in utilities and @theme instead`;
    if (/\bsource\s*\(/i.test(f.params) && !/\bsource\s*\(\s*none\s*\)/i.test(f.params))
      return `source(…) in @${f.name} makes Tailwind scan files outside src/; it is not allowed`;
    if (f.name !== 'import' && f.name !== 'reference') return undefined;
    if (f.target === undefined)
      return `@${f.name} needs a quoted path: @import "tailwindcss"; or @import "./theme.css";`;
    if (/^tailwindcss(\/(theme|preflight|utilities)(\.css)?)?$/.test(f.target)) return undefined;
    if (!f.target.startsWith('.'))
      return `@${f.name} "${f.target}" is not allowed: import "tailwindcss" or a .css file of your own under src/`;
    return vetCssPath(file, f.target, files, true);
  }
  if (!isFileUrl(f.target)) return undefined;
  if (f.prelude)
    return `url(${f.target}) inside @${f.prelude} names a file: Tailwind copies it into the built CSS, where the build would read a file other than the one meant. Write it as a plain declaration instead (.hero { background-image: url(./hero.svg); }) with a file under src/, or use a data:, https: or http: URL`;
  return vetCssPath(file, f.target, files, false);
}

function vetCssPath(file: string, target: string, files: FileMap, cssOnly: boolean): string | undefined {
  if (/[?#\0\\]/.test(target)) return `'${target}' carries a query or hash; refer to the file itself`;
  if (!target.startsWith('.'))
    return `'${target}' is not allowed in CSS: use a relative path to a file under src/, a data: URL or an https: URL`;
  const resolved = posix.normalize(posix.join(posix.dirname(file), target));
  if (!resolved.startsWith('src/'))
    return `'${target}' resolves to ${resolved}, outside src/; CSS may only refer to files under src/`;
  if (cssOnly && !resolved.endsWith('.css')) return `'${target}' is not a .css file`;
  if (!(resolved in files)) return `Cannot find file '${target}' (${resolved} does not exist)`;
  return undefined;
}

/**
 * Checks file maps before they are written into a sandbox: every import, CSS directive, url()
 * (in CSS and in Tailwind classes of any file) and file name that a build tool would follow
 * outside `src/` or read as a file, run at build time, or that names a
 * package the app cannot use, each with file and line. Empty means the files may be written.
 * Scripts are parsed by a real parser (oxc) in a process of its own (see ScriptParser).
 */
export class SourceVetter {
  private readonly parser: ScriptParser;

  constructor(
    private readonly libraries: string[],
    parser?: ScriptParser,
  ) {
    this.parser = parser ?? new ScriptParser();
  }

  async vet(files: FileMap): Promise<CheckError[]> {
    const errors: CheckError[] = [];
    for (const [file, text] of Object.entries(files)) {
      const name = posix.basename(file);
      if (CONFIG_NAMES.test(name)) {
        errors.push({
          file,
          line: 1,
          column: 1,
          message: `${name} is read by the build tools as configuration; an app may not contain one (the template's configuration is fixed)`,
        });
        continue;
      }
      if (/\.(tsx?|jsx?)$/.test(file))
        errors.push(...(await vetScript(this.parser, file, text, files, this.libraries)));
      if (file.endsWith('.css')) errors.push(...vetCss(file, text, files));
      // Tailwind scans every other file for classes (.tsx, .md, .json, .svg, .html, …).
      else errors.push(...vetClassUrls(file, text));
    }
    return errors.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  }

  /** Stops the parser's process (it also ends by itself when the bot exits). */
  close(): void {
    this.parser.close();
  }
}
