// Arrows one way (issue 21): no import circles in src/ and adapters/, and the core imports
// nothing from sandbox-template/ (a fact both need lives on the core's side; the template gets a
// generated copy of it, checked here too).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSync } from 'oxc-parser';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CODE = /\.(ts|mjs)$/;
/** The sample apps' own sources: apps, not the bot. */
const SAMPLE_APP_SOURCE = /^src\/llm\/samples\/[^/]+\/src\//;

/** Repo-relative, `/`-separated. */
const repoPath = (abs: string) => relative(ROOT, abs).split(sep).join('/');

function codeFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .map((p) => posix.join(dir, p.split(sep).join('/')))
    .filter((p) => CODE.test(p) && !p.split('/').includes('node_modules') && !SAMPLE_APP_SOURCE.test(p))
    .sort();
}

/** Every module specifier a file names: static imports (type-only too), re-exports, and string-literal dynamic imports. */
function specifiers(file: string, text: string): string[] {
  const { module, errors } = parseSync(file, text);
  if (errors.length) throw new Error(`${file}: ${errors.map((e) => e.message).join('; ')}`);
  const found = module.staticImports.map((i) => i.moduleRequest.value);
  for (const e of module.staticExports)
    for (const entry of e.entries) if (entry.moduleRequest) found.push(entry.moduleRequest.value);
  for (const d of module.dynamicImports) {
    const literal = /^(['"`])([^'"`$]*)\1$/.exec(text.slice(d.moduleRequest.start, d.moduleRequest.end));
    if (literal) found.push(literal[2]!);
  }
  return found;
}

/** A relative specifier's file, repo-relative (`.js` may stand for `.ts`, as TypeScript allows), or undefined. */
function resolveSpecifier(from: string, spec: string): string | undefined {
  const base = join(ROOT, dirname(from), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}.mjs`, join(base, 'index.ts')];
  const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  return hit && repoPath(hit);
}

type Graph = Map<string, string[]>;

function importGraph(): { graph: Graph; unresolved: string[] } {
  const graph: Graph = new Map();
  const unresolved: string[] = [];
  for (const file of [...codeFiles('src'), ...codeFiles('adapters')]) {
    const targets = new Set<string>();
    for (const spec of specifiers(file, readFileSync(join(ROOT, file), 'utf8'))) {
      if (!spec.startsWith('./') && !spec.startsWith('../')) continue;
      const target = resolveSpecifier(file, spec);
      if (target) targets.add(target);
      else unresolved.push(`${file}: ${spec}`);
    }
    graph.set(file, [...targets].sort());
  }
  return { graph, unresolved };
}

/** The shortest import chain from `from` to `to` (both included); `from` reaches `to` when called. */
function shortestChain(graph: Graph, from: string, to: string): string[] {
  const cameFrom = new Map<string, string>([[from, from]]);
  const queue = [from];
  for (let i = 0; i < queue.length && !cameFrom.has(to); i++)
    for (const next of graph.get(queue[i]!) ?? [])
      if (!cameFrom.has(next)) {
        cameFrom.set(next, queue[i]!);
        queue.push(next);
      }
  const chain = [to];
  while (chain[0] !== from) chain.unshift(cameFrom.get(chain[0]!)!);
  return chain;
}

/**
 * The import circles, one per back edge `a -> b` of a depth-first walk (files and edges in sorted
 * order, so the list is the same every run), each as its shortest chain `b -> ... -> a -> b`.
 * Every circle in the graph has at least one back edge, so an empty list means none at all.
 */
function findCycles(graph: Graph): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (node: string) => {
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'open') cycles.push([...shortestChain(graph, next, node), next].join(' -> '));
      else if (s === undefined) visit(next);
    }
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('the cycle finder', () => {
  it('finds a known circle, a self-import and nothing in a graph without one', () => {
    const g = (edges: Record<string, string[]>): Graph => new Map(Object.entries(edges));
    expect(findCycles(g({ 'a.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': ['a.ts'], 'd.ts': ['a.ts'] }))).toEqual([
      'a.ts -> b.ts -> c.ts -> a.ts',
    ]);
    expect(findCycles(g({ 'a.ts': ['a.ts'] }))).toEqual(['a.ts -> a.ts']);
    expect(findCycles(g({ 'a.ts': ['b.ts', 'c.ts'], 'b.ts': ['c.ts'], 'c.ts': [] }))).toEqual([]);
  });

  it('reads every kind of import and export-from, type-only ones included', () => {
    const text = [
      "import type { A } from './a.ts';",
      "import { type B } from './b.ts';",
      "import './c.ts';",
      "export type { D } from './d.ts';",
      "export * from './e.ts';",
      "export { f } from './f.ts';",
      "const g = await import('./g.ts');",
      'const h = await import(name);',
      "// import x from './comment.ts';",
    ].join('\n');
    expect(specifiers('x.ts', text)).toEqual(['./a.ts', './b.ts', './c.ts', './d.ts', './e.ts', './f.ts', './g.ts']);
  });
});

describe('the import graph of src/ and adapters/', () => {
  const { graph, unresolved } = importGraph();

  it('is read whole: every relative import resolves to a file', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('src/core/apps/publisher.ts')).toContain('src/core/apps/source-hash.ts');
    expect(unresolved).toEqual([]);
  });

  it('has no import circles', () => {
    expect(findCycles(graph)).toEqual([]);
  });

  it('has nothing under src/core/ importing from sandbox-template/', () => {
    const across = [...graph]
      .filter(([file]) => file.startsWith('src/core/'))
      .flatMap(([file, targets]) =>
        targets.filter((t) => t.startsWith('sandbox-template/')).map((t) => `${file} -> ${t}`),
      );
    expect(across).toEqual([]);
  });
});

describe('the web types (content types, what is worth compressing)', () => {
  it("are the core's module in the template too: its copy is generated, byte for byte", () => {
    const core = readFileSync(join(ROOT, 'src/core/apps/web-types.ts'));
    const copyPath = join(ROOT, 'sandbox-template/vibe-plugins/web-types.ts');
    const stale =
      'sandbox-template/vibe-plugins/web-types.ts is not a copy of src/core/apps/web-types.ts: run `node scripts/install-template.mjs`';
    expect(existsSync(copyPath), stale).toBe(true);
    const copy = readFileSync(copyPath);
    const firstLine = copy.indexOf('\n') + 1;
    expect(copy.subarray(0, firstLine).toString('utf8')).toMatch(
      /^\/\/ .*generated from src\/core\/apps\/web-types\.ts.*do not edit/i,
    );
    expect(copy.subarray(firstLine).equals(core), stale).toBe(true);
  });
});
