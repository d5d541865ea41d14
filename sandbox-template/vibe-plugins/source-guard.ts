import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Plugin, ResolvedConfig } from 'vite';

// The build guard: what Vite and Tailwind may read while they build or serve an app whose code
// a model wrote. Only the app's src/, node_modules and Vite's cache (and index.html as the page
// itself). This one file is used by the bot's sandboxes and copied, as it is, into every exported
// project (as vite-guard.ts): it imports nothing but Node and Vite's types.

/** Queries that make Vite hand out a file's bytes or address instead of running it as a module. */
const FILE_QUERY = /[?&](raw|url|inline|worker|sharedworker)\b/;
/** url() targets no build reads: data, remote addresses, fragments, CSS functions. */
const NOT_A_FILE = /^(data:|[a-z][\w+.-]*:\/\/|\/\/|#|[a-z_][.\w-]*\()/i;
/** At-rules whose argument Tailwind or Vite reads (or scans) as a file or folder. */
const FILE_AT_RULE = /@(import|reference|plugin|config|source)\s+(?:url\(\s*)?(?:"([^"]*)"|'([^']*)'|([^\s;'")]+))/gi;
const SOURCE_FN = /\bsource\(\s*(?:"([^"]*)"|'([^']*)')/gi;

/** A reference in a stylesheet, as written, and what it is. */
interface CssRef {
  raw: string;
  kind: 'url' | 'import' | 'folder';
}

/**
 * Every file a stylesheet names: each url( (comments and strings included: more than Vite's own
 * rewriting sees), each candidate of an image-set(, the argument of @import, @reference, @plugin,
 * @config, @source and source(…). Linear in the input: a url( or image-set( inside the argument
 * of an earlier one is part of that argument (Vite does not resolve it on its own either).
 */
function cssReferences(css: string): CssRef[] {
  const out: CssRef[] = [];
  // The next index of a character at or after `from` (searches only move forward: linear).
  const found = new Map<string, number>();
  const next = (ch: string, from: number): number => {
    const last = found.get(ch);
    if (last !== undefined && last >= from) return last;
    const at = css.indexOf(ch, from);
    found.set(ch, at === -1 ? css.length : at);
    return found.get(ch)!;
  };
  let until = 0;
  for (const m of css.matchAll(/url\(/gi)) {
    if (m.index < until) continue;
    let j = m.index + 4;
    while (/\s/.test(css[j] ?? '')) j++;
    const q = css[j];
    // Unquoted, it ends at the first ) or quote (a \) inside is refused as an escape).
    const close = q === '"' || q === "'" ? next(q, j + 1) : Math.min(next(')', j), next('"', j), next("'", j));
    out.push({ raw: css.slice(q === '"' || q === "'" ? j + 1 : j, close).trim(), kind: 'url' });
    until = close + 1;
  }
  until = 0;
  for (const m of css.matchAll(/image-set\(/gi)) {
    if (m.index < until) continue;
    let depth = 1;
    let end = m.index + m[0].length;
    for (; end < css.length && depth > 0; end++) depth += css[end] === '(' ? 1 : css[end] === ')' ? -1 : 0;
    until = end;
    // Every string and every bare word of the candidate list ("a.png" 1x, b.png 2x): a word under
    // src/ is harmless, so descriptors may pass as words.
    const args = css.slice(m.index + m[0].length, depth === 0 ? end - 1 : end);
    const call = /\s*\(/y;
    for (const t of args.matchAll(/"([^"]*)"|'([^']*)'|([^\s,"'()]+)/g)) {
      call.lastIndex = t.index + t[0].length;
      if (t[3] === undefined || !call.test(args)) out.push({ raw: (t[1] ?? t[2] ?? t[3] ?? '').trim(), kind: 'url' });
    }
  }
  for (const m of css.matchAll(FILE_AT_RULE))
    out.push({
      raw: (m[2] ?? m[3] ?? m[4] ?? '').trim(),
      kind: m[1]!.toLowerCase() === 'source' ? 'folder' : 'import',
    });
  for (const m of css.matchAll(SOURCE_FN)) out.push({ raw: (m[1] ?? m[2] ?? '').trim(), kind: 'folder' });
  return out;
}

/** Where a build may read: src/, the allowed folders, and (as a module) the page's index.html. */
class ReadPolicy {
  readonly src: string;
  private readonly dirs: string[];
  private readonly html: string;

  constructor(
    readonly root: string,
    allow: string[],
  ) {
    this.src = join(root, 'src') + sep;
    this.dirs = [this.src, ...allow.map((d) => (d.endsWith(sep) ? d : d + sep))];
    this.html = join(root, 'index.html');
  }

  /** True when `path` (as the file system resolves it, symlinks followed) is in src/ or an allowed folder. */
  mayRead(path: string): boolean {
    const p = real(path);
    return this.dirs.some((d) => p.startsWith(d) || `${p}${sep}` === d);
  }

  /** Modules: the same, and the page's own index.html. */
  mayLoad(path: string): boolean {
    return this.mayRead(path) || real(path) === this.html;
  }

  /** The path relative to the app root, for messages. */
  show(path: string): string {
    const r = relative(this.root, path);
    return r.startsWith('..') ? path : r;
  }

  /** Where under src/ `text` is written ("src/App.tsx:3"), for messages; undefined when nowhere. */
  locate(text: string): string | undefined {
    const walk = (dir: string): string | undefined => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return undefined;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          const found = walk(p);
          if (found) return found;
        } else if (e.isFile()) {
          const body = readFileSync(p, 'utf8');
          const at = body.indexOf(text);
          if (at >= 0) return `${this.show(p)}:${body.slice(0, at).split('\n').length}`;
        }
      }
      return undefined;
    };
    return text ? walk(this.src) : undefined;
  }
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** The reason `ref` in the stylesheet `file` may not be read, or undefined. */
function refusal(policy: ReadPolicy, file: string, ref: CssRef): { why: string; path?: string } | undefined {
  if (ref.raw === '' || NOT_A_FILE.test(ref.raw) || ref.raw.startsWith('__VITE_')) return undefined;
  if (ref.kind === 'folder' && ref.raw === 'none') return undefined;
  // Bare package names (@import "tailwindcss") resolve into node_modules.
  if (ref.kind !== 'url' && !/^[./\\]/.test(ref.raw)) return undefined;
  let target = ref.raw.replace(/\\(\W)/g, '$1');
  try {
    target = decodeURI(target);
  } catch {
    // Vite keeps what it cannot decode as it is
  }
  if (/[?\\\0]/.test(target)) return { why: 'a query or escape in a file reference is not allowed' };
  target = target.split('#')[0]!;
  const path = target.startsWith('/') ? join(policy.root, target) : resolve(dirname(file), target);
  return policy.mayRead(path) ? undefined : { why: "it is outside the app's src/", path };
}

/** Checks a stylesheet and, through @import, every stylesheet under src/ it pulls in. */
function checkCss(policy: ReadPolicy, file: string, css: string, seen = new Set<string>()): void {
  seen.add(file);
  for (const ref of cssReferences(css)) {
    const no = refusal(policy, file, ref);
    if (no) {
      const where = policy.locate(ref.raw);
      throw new Error(
        `vibe: refused ${ref.kind === 'url' ? `url(${ref.raw})` : `"${ref.raw}"`} in ${policy.show(file)}` +
          `${where ? ` (written at ${where})` : ''}${no.path ? `: it names ${no.path}` : ''}; ${no.why}. ` +
          'A build may only read files under src/: use a data: or https: URL, or a file under src/ in a plain CSS declaration.',
      );
    }
    if (ref.kind !== 'import' || !/^\./.test(ref.raw)) continue;
    const next = resolve(dirname(file), ref.raw.split(/[?#]/)[0]!);
    if (!seen.has(next) && existsSync(next)) checkCss(policy, next, readFileSync(next, 'utf8'), seen);
  }
}

/**
 * Defence in depth behind the bot's own source check, in dev and in build: every file Vite or
 * Tailwind reads for the app must be under its src/, node_modules or Vite's cache, or the build
 * fails naming the file. `files` goes first in the plugin list; `css` right after tailwindcss(),
 * so it sees the CSS Tailwind generated from classes before Vite resolves its url()s.
 *  - modules (resolveId, load): nothing outside those folders but index.html; `?raw`, `?url`,
 *    `?inline` and `?worker` of src/ files only;
 *  - assets (build.assetsInlineLimit, called on every file Vite reads to inline or emit; and
 *    generateBundle, on every emitted file's originals): nothing outside those folders;
 *  - stylesheets (transform, before and after Tailwind): every url(), image-set() and @import,
 *    since Vite resolves CSS url()s with a resolver of its own that calls no plugin's resolveId,
 *    and inlines `url(x?inline)` without asking assetsInlineLimit.
 */
/** `extraDirs`: folders beside src/ a build may also read (the template's `vibe-shared/` module). */
export function sourceGuard(extraDirs: string[] = []): { files: Plugin; css: Plugin } {
  let policy: ReadPolicy | undefined;
  const guard = (): ReadPolicy => {
    if (!policy) throw new Error('vibe: the source guard has no configuration yet');
    return policy;
  };
  const assetsInlineLimit = (file: string): undefined => {
    if (!guard().mayRead(file))
      throw new Error(`vibe: refused to read ${file} as an asset: it is outside the app's src/`);
    return undefined; // Vite's own size rule decides whether it is inlined
  };
  const cssIds = { id: /\.css(\?|$)/ };
  const checkTransform = (code: string, id: string) => {
    if (!id.startsWith('\0')) checkCss(guard(), id.split('?')[0]!, code);
    return null;
  };
  const files: Plugin = {
    name: 'vibe:source-guard',
    enforce: 'pre',
    // No public/ folder: Vite would copy it into the build without reading it through any hook.
    config: () => ({ publicDir: false, build: { assetsInlineLimit } }),
    configResolved(config: ResolvedConfig) {
      const root = real(config.root);
      const modules = real(join(root, 'node_modules'));
      policy = new ReadPolicy(root, [
        modules,
        real(config.cacheDir),
        ...extraDirs.filter((d) => existsSync(d)).map(real),
      ]);
      if (config.build.assetsInlineLimit !== assetsInlineLimit)
        throw new Error('vibe: build.assetsInlineLimit must be the source guard’s');
      const names = config.plugins.map((p) => p.name);
      const after = names.lastIndexOf('vibe:css-guard');
      if (after === -1 || names.some((n, i) => n.startsWith('@tailwindcss/vite:generate') && i > after))
        throw new Error('vibe: the source guard’s css plugin must come after tailwindcss()');
    },
    async resolveId(source, importer, options) {
      if (!importer || source.startsWith('\0')) return null;
      const r = await this.resolve(source, importer, { ...options, skipSelf: true });
      const path = r && !r.external ? r.id.split('?')[0]! : '';
      if (isAbsolute(path) && existsSync(path) && !guard().mayLoad(path))
        throw new Error(
          `vibe: refused ${source} imported by ${guard().show(importer.split('?')[0]!)}: it resolves to ${path}, outside the app's src/`,
        );
      return r;
    },
    load(id) {
      if (id.startsWith('\0') || !isAbsolute(id)) return null; // virtual modules
      const [path = '', query = ''] = id.split('?', 2);
      // Ids that are no file (Vite's /@react-refresh, /@vite/client before resolution) cannot leak one.
      if (!guard().mayLoad(path) && existsSync(path))
        throw new Error(`vibe: refused to load ${path}: it is outside the app's src/`);
      if (FILE_QUERY.test(`?${query}`) && !real(path).startsWith(guard().src))
        throw new Error(`vibe: refused ${id}: only the app's own src/ files may be loaded as raw text or URLs`);
      return null;
    },
    transform: { filter: cssIds, handler: checkTransform },
    generateBundle: {
      order: 'post', // after Vite has emitted index.html and the CSS
      handler(_options, bundle) {
        const p = guard();
        for (const out of Object.values(bundle)) {
          if (out.type !== 'asset') continue;
          for (const name of out.originalFileNames ?? []) {
            const path = resolve(p.root, name);
            // index.html is the page (and the origin Vite gives its CSS), never an asset of its own.
            const page = real(path) === join(p.root, 'index.html') && /^index\.html$|\.css$/.test(out.fileName);
            if (!page && !p.mayRead(path))
              throw new Error(`vibe: refused to emit ${out.fileName}: it is a copy of ${path}, outside the app's src/`);
          }
        }
      },
    },
  };
  const css: Plugin = {
    name: 'vibe:css-guard',
    enforce: 'pre',
    transform: { filter: cssIds, handler: checkTransform },
  };
  return { files, css };
}
