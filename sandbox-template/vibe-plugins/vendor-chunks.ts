import { createRequire } from 'node:module';
import { join } from 'node:path';
import { rolldown } from 'rolldown';
import { esmExternalRequirePlugin, type Plugin } from 'vite';

/**
 * The modules every app imports and no app changes: built once per sandbox, not in every build.
 * React's production code is most of a small app's build (its rebuild here: about 120 ms with
 * React bundled, 30 ms without).
 */
export const VENDOR_MODULES = ['react', 'react/jsx-runtime', 'react-dom', 'react-dom/client'] as const;

/** The vendor files, and for each module the file (in `assets/`) that stands for it. */
export interface VendorChunks {
  files: { path: string; body: Buffer }[];
  /** Module -> its file's path under the build's root, e.g. `react` -> `assets/react-x1.js`. */
  entries: Map<string, string>;
}

const VIRTUAL = '\0vibe-vendor:';
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * An ES module that stands for a CommonJS package: its default export is the package and each of
 * its own properties (read in this process, NODE_ENV=production) is a named export.
 */
function entrySource(root: string, module: string): string {
  const required = createRequire(join(root, 'package.json'))(module) as Record<string, unknown>;
  const names = Object.keys(required).filter((n) => n !== 'default' && IDENTIFIER.test(n));
  return [
    `import m from ${JSON.stringify(module)};`,
    'export default m;',
    ...names.map((n) => `export const ${n} = m.${n};`),
  ].join('\n');
}

/** File name of a module's entry: `react/jsx-runtime` -> `react-jsx-runtime`. */
const entryName = (module: string) => module.replace(/[^a-z0-9]+/gi, '-');

/**
 * Builds VENDOR_MODULES (production, minified) into content-hashed files under `assets/`: the
 * same bytes in every sandbox of the same template, so a published build stores them once.
 */
export async function buildVendorChunks(root: string): Promise<VendorChunks> {
  const bundle = await rolldown({
    input: Object.fromEntries(VENDOR_MODULES.map((m) => [entryName(m), `${VIRTUAL}${m}`])),
    cwd: root,
    platform: 'browser',
    logLevel: 'silent',
    transform: { define: { 'process.env.NODE_ENV': '"production"' } },
    plugins: [
      {
        name: 'vibe:vendor-entries',
        resolveId: (id) => (id.startsWith(VIRTUAL) ? id : undefined),
        load: (id) => (id.startsWith(VIRTUAL) ? entrySource(root, id.slice(VIRTUAL.length)) : undefined),
      },
    ],
  });
  try {
    const { output } = await bundle.generate({
      format: 'es',
      minify: true,
      entryFileNames: 'assets/[name]-[hash].js',
      chunkFileNames: 'assets/[name]-[hash].js',
      // One file with the libraries' code; each module's file only says what it exports.
      codeSplitting: { groups: [{ name: 'react-lib', test: (id: string) => !id.startsWith(VIRTUAL) }] },
    });
    const files = output.map((o) => ({
      path: o.fileName,
      body: Buffer.from(o.type === 'chunk' ? o.code : o.source),
    }));
    const entries = new Map<string, string>();
    for (const o of output)
      if (o.type === 'chunk' && o.isEntry) {
        const module = VENDOR_MODULES.find((m) => entryName(m) === o.name);
        if (module) entries.set(module, o.fileName);
      }
    return { files, entries };
  } finally {
    await bundle.close();
  }
}

/**
 * For the light view's build child: VENDOR_MODULES are left out of each build (imported from
 * their vendor files, which go along with every build: see lightBuild), also where a CommonJS
 * library calls `require('react')` (recharts' helpers do), and the page preloads them, as it did
 * the chunk they were in. Without `vendor` (its build failed), React is bundled as before.
 */
export async function vendorPlugins(vendor: Promise<VendorChunks | undefined>): Promise<Plugin[]> {
  const ready = await vendor;
  if (!ready) return [];
  const modules = [...ready.entries.keys()];
  // Every chunk of a build is in assets/, beside the vendor files.
  const paths = Object.fromEntries([...ready.entries].map(([m, file]) => [m, `./${file.slice('assets/'.length)}`]));
  let base = '/';
  return [
    {
      name: 'vibe:vendor-chunks',
      apply: 'build',
      enforce: 'pre',
      config: () => ({ build: { rolldownOptions: { output: { paths } } } }),
      configResolved(config) {
        base = config.base;
      },
      resolveId: (id) => (ready.entries.has(id) ? { id, external: true } : undefined),
      transformIndexHtml: () =>
        ready.files
          .filter((f) => f.path.endsWith('.js'))
          .map((f) => ({
            tag: 'link',
            attrs: { rel: 'modulepreload', crossorigin: true, href: `${base}${f.path}` },
            injectTo: 'head' as const,
          })),
    },
    esmExternalRequirePlugin({ external: modules }) as unknown as Plugin,
  ];
}
