import { realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

// Every setting that differs per sandbox comes from the environment the provider sets.
const base = process.env.VIBE_BASE || '/';
const port = Number(process.env.VIBE_PORT || 5173);
// 127.0.0.1 for local sandboxes (the bot's gateway fronts them); 0.0.0.0 inside Modal, whose tunnel connects from outside.
const host = process.env.VIBE_HOST || '127.0.0.1';
const hmrClientPort = process.env.VIBE_HMR_CLIENT_PORT ? Number(process.env.VIBE_HMR_CLIENT_PORT) : undefined;
// Vite's own cache: a tmpfs outside the (read-only) app root in a local sandbox, else in the app dir.
const cacheDir = process.env.VIBE_CACHE_DIR || '.vite-cache';
// Where viewers' uncaught errors are reported: the bot's gateway. Behind the local gateway that
// is this app's own path on the page's origin; a sandbox served from elsewhere (a Modal tunnel)
// is given the gateway's public URL for this app.
const errorUrl = process.env.VIBE_ERROR_URL || `${base}__vibe/errors`;
// `@vibe/shared` (shared state): where pages find the bot's server. Behind the gateway that is
// this app's own path on the page's origin; a sandbox served from elsewhere (a Modal tunnel) is
// given the gateway's address for this app.
const sharedUrl = process.env.VIBE_SHARED_URL || `${base}__vibe/shared`;
// An export build (the bot's `/vibe export`): a site that works from any folder of any static
// host, with none of the bot's own plugins in it, written where the export reads it from.
const exportDir = process.env.VIBE_EXPORT_DIR;

// The plugins live beside the real template: a local app dir copies only the template's
// top-level files and links its node_modules, so they are found through that link (on Modal
// the template itself is the app dir and this is ./vibe-plugins).
const templateRoot = dirname(realpathSync('node_modules'));
const vibe = (await import(
  /* @vite-ignore */ pathToFileURL(join(templateRoot, 'vibe-plugins', 'index.ts')).href
)) as typeof import('./vibe-plugins/index.ts');

// The `@vibe/shared` module: a template file the app imports and cannot change (an exported
// app gets its read-only twin, which reads data.json).
const sharedDir = join(templateRoot, 'vibe-shared');

/** The shared library chunks: React, recharts (with the d3 modules it pulls in), lucide's icons. */
const VENDOR_CHUNKS = [
  { name: 'react', test: /[\\/]node_modules[\\/](react|react-dom|scheduler)[\\/]/, priority: 3 },
  {
    name: 'recharts',
    test: /[\\/]node_modules[\\/](recharts|d3-[a-z-]+|victory-vendor|internmap|decimal\.js-light|eventemitter3|es-toolkit|immer|reselect|redux|@reduxjs|react-redux|use-sync-external-store|tiny-invariant|react-is|redux-thunk)[\\/]/,
    priority: 2,
  },
  { name: 'lucide', test: /[\\/]node_modules[\\/]lucide-react[\\/]/, priority: 1 },
  { name: 'shared', test: /[\\/]node_modules[\\/](yjs|y-protocols|lib0)[\\/]/, priority: 1 },
];

export default defineConfig(({ command }) => {
  const root = process.cwd();
  const modules = realpathSync('node_modules');
  const cache = resolve(root, cacheDir);
  // The `vite build --watch` child of the light view (undefined in a plain `vite build`).
  const child = command === 'build' && !exportDir ? vibe.lightBuildChild() : undefined;
  // What Vite and Tailwind may read: src/, node_modules, the cache and @vibe/shared (see vibe-plugins/source-guard.ts).
  const guard = vibe.sourceGuard([sharedDir]);
  return {
    // The creator's dev server (HMR) under dev/; the light production view at the base itself.
    base: exportDir ? './' : command === 'serve' ? `${base}dev/` : base,
    plugins: [
      guard.files,
      react(),
      tailwindcss(),
      guard.css, // right after Tailwind: it checks the CSS Tailwind generated from classes
      vibe.lucideIcons(root),
      // Both views, dev and build: index.html is the template's, out of the model's reach.
      ...(exportDir ? [] : [vibe.errorReporter({ url: errorUrl, base })]),
      ...(command === 'serve' ? [vibe.lightView({ base, root }), vibe.devFreshness(root)] : []),
      ...(child ? [child.plugin] : []),
    ],
    resolve: {
      alias: [{ find: /^@vibe\/shared$/, replacement: join(sharedDir, exportDir ? 'readonly.ts' : 'index.ts') }],
    },
    define: { __VIBE_SHARED_URL__: JSON.stringify(sharedUrl) },
    // node_modules is shared and read-only: Vite's own cache lives elsewhere.
    cacheDir: cache,
    clearScreen: false,
    server: {
      host,
      port,
      strictPort: true,
      // Tunnels and reverse proxies put their own host name in the Host header.
      allowedHosts: ['.modal.host', 'localhost', '127.0.0.1'],
      // No CORS at all: the app's own pages (and the bot's check browser, which opens the
      // sandbox's own address) are same-origin and need none, and another origin (another app's
      // page on *.localhost included, which Vite's default lets in) may not read the source.
      cors: false,
      // With no ws host/port set, the HMR client connects back to the page's own origin and base
      // path, so it works behind a proxy on another port or an https tunnel. A tunnel that serves
      // the page on a port the browser does not see (e.g. 443 on Modal) can force it.
      ws: hmrClientPort ? { clientPort: hmrClientPort } : {},
      // Dependencies resolve through the symlink to the template's node_modules.
      fs: { allow: ['.', modules, cache, sharedDir] },
    },
    build: {
      sourcemap: false,
      reportCompressedSize: false,
      // Libraries in chunks of their own, named and hashed by their content alone, so every app
      // and version that uses the same ones shares the same files (a published build stores them once).
      rolldownOptions: { output: { codeSplitting: { groups: VENDOR_CHUNKS } } },
      ...child?.build,
      ...(exportDir ? { outDir: exportDir, emptyOutDir: true } : {}),
    },
    // Pre-bundle the curated libraries at start, so a first import does not reload the page.
    // lucide-react is not: imports are rewritten to one module per icon (vibe:lucide-icons).
    optimizeDeps: {
      include: [
        'react',
        'react-dom',
        'react-dom/client',
        'react/jsx-dev-runtime',
        'recharts',
        'clsx',
        'yjs',
        'y-protocols/sync',
        'lib0/encoding',
        'lib0/decoding',
      ],
      exclude: ['lucide-react'],
    },
  };
});
