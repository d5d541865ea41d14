import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, zipSync, type Zippable } from 'fflate';
import type { AppPacker, AppRecord, VersionRecord } from '../core/ports/index.ts';
import { SHARED_MODULE, type SharedDataExport } from '../core/ports/shared.ts';

/** Every entry's time in the zip: fixed, so one version always packs to the same bytes. */
const ZIP_TIME = new Date(Date.UTC(2026, 0, 1));

/**
 * `/vibe export`: the app as a project that installs and builds on its own, with none of the
 * bot's private plugins: its `src/`, the template's dependencies and TypeScript settings, a plain
 * Vite config, an index.html titled after the app, a README, and the build (`dist/`) when the
 * sandbox could make one. Everything but `src/` and `dist/` is the bot's own text.
 */
export class AppZipPacker implements AppPacker {
  private readonly template: {
    dependencies: Record<string, string>;
    tsconfig: string;
    indexHtml: string;
    guard: string;
    /** `@vibe/shared` for an exported app: the read-only twin that reads data.json. */
    sharedReadOnly: string;
  };

  constructor(templateDir: string) {
    const pkg = JSON.parse(readFileSync(join(templateDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    this.template = {
      dependencies: pkg.dependencies,
      tsconfig: readFileSync(join(templateDir, 'tsconfig.json'), 'utf8'),
      indexHtml: readFileSync(join(templateDir, 'index.html'), 'utf8'),
      // The sandboxes' own build guard, as it is: the person's own build reads nothing outside src/ either.
      guard: readFileSync(join(templateDir, 'vibe-plugins', 'source-guard.ts'), 'utf8'),
      sharedReadOnly: readFileSync(join(templateDir, 'vibe-shared', 'readonly.ts'), 'utf8'),
    };
  }

  pack(app: AppRecord, version: VersionRecord, built: Map<string, Uint8Array> | undefined, data?: SharedDataExport) {
    const slug = slugOf(app.title);
    const name = `${slug}-${app.id}-v${version.number}`;
    // Shared state (`@vibe/shared`): its data as data.json, read by a read-only module.
    const shared = data !== undefined || Object.values(version.files).some((t) => t.includes(SHARED_MODULE));
    const dataJson = strToU8(`${JSON.stringify(data ?? { state: {}, lists: {} }, null, 2)}\n`);
    const files: Record<string, Uint8Array> = {
      'package.json': strToU8(`${JSON.stringify(this.packageJson(slug), null, 2)}\n`),
      'tsconfig.json': strToU8(this.template.tsconfig),
      'vite.config.ts': strToU8(shared ? VITE_CONFIG_SHARED : VITE_CONFIG),
      'vite-guard.ts': strToU8(this.template.guard),
      ...(shared
        ? { 'vibe-shared/index.ts': strToU8(this.template.sharedReadOnly), 'public/data.json': dataJson }
        : {}),
      'index.html': strToU8(
        this.template.indexHtml.replace(/<title>[^<]*<\/title>/, `<title>${escapeHtml(app.title)}</title>`),
      ),
      'README.md': strToU8(readme(app, version, built !== undefined) + (shared ? SHARED_NOTE : '')),
      '.gitignore': strToU8('node_modules\n'),
    };
    for (const [path, text] of Object.entries(version.files)) files[path] = strToU8(text);
    for (const [path, bytes] of built ?? []) files[`dist/${path}`] = bytes;
    if (shared && built) files['dist/data.json'] = dataJson;
    const tree: Zippable = {};
    for (const [path, bytes] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)))
      tree[`${name}/${path}`] = [bytes, { mtime: ZIP_TIME }];
    return { name: `${name}.zip`, bytes: zipSync(tree, { level: 6 }) };
  }

  private packageJson(slug: string) {
    return {
      name: slug,
      version: '1.0.0',
      private: true,
      type: 'module',
      scripts: { dev: 'vite', build: 'vite build', preview: 'vite preview', check: 'tsc --noEmit -p .' },
      dependencies: this.template.dependencies,
    };
  }
}

const VITE_CONFIG = `import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';
import { sourceGuard } from './vite-guard.ts';

// The app's code was written by a model: vite-guard.ts lets the build read nothing outside src/
// and node_modules (a Tailwind class whose url() names another file fails the build instead of
// copying that file into dist/). Tailwind reads every file here for classes, this one included.
const guard = sourceGuard();

// base './': the built site in dist/ works from any folder of any static host.
export default defineConfig({
  base: './',
  plugins: [guard.files, react(), tailwindcss(), guard.css],
});
`;

// The read-only `@vibe/shared` (vibe-shared/index.ts, from the template's readonly.ts) for an app that uses shared state.
const VITE_CONFIG_SHARED = `import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';
import { sourceGuard } from './vite-guard.ts';

// The app's code was written by a model: vite-guard.ts lets the build read nothing outside src/,
// node_modules and vibe-shared/. Tailwind reads every file here for classes, this one included.
const sharedDir = fileURLToPath(new URL('./vibe-shared', import.meta.url));
const guard = sourceGuard([sharedDir]);

// base './': the built site in dist/ works from any folder of any static host.
// @vibe/shared: the app's shared data as it was exported (public/data.json), read-only.
export default defineConfig({
  base: './',
  plugins: [
    guard.files,
    react(),
    tailwindcss(),
    guard.css,
    {
      name: 'exported-data',
      generateBundle() {
        const source = readFileSync(new URL('./public/data.json', import.meta.url));
        this.emitFile({ type: 'asset', fileName: 'data.json', source });
      },
    },
  ],
  resolve: { alias: { '@vibe/shared': fileURLToPath(new URL('./vibe-shared/index.ts', import.meta.url)) } },
});
`;

const SHARED_NOTE = `
## Shared data

In the chat, this app keeps data every viewer shares (\`@vibe/shared\`): votes, lists, values. That needs the bot's server, so
here \`vibe-shared/index.ts\` stands in for it: it shows the data as it was when the app was exported
(\`public/data.json\`, which the build copies into \`dist/\`), read-only. Changes made in this copy are not saved (the console says so).
`;

function readme(app: AppRecord, version: VersionRecord, withBuild: boolean): string {
  return `# ${app.title}

${app.summary}

Made with vibe-bot (version ${version.number}) from the prompt:

> ${app.prompt.replace(/\n/g, '\n> ')}

## Run it

\`\`\`sh
npm install && npm run dev
\`\`\`

Then open the address Vite prints. \`npm run build\` writes the site to \`dist/\`; \`npm run check\` type-checks it.
${withBuild ? '\n`dist/` already holds a build of this version: open it from any static host (its paths are relative).\n' : ''}
React 19, Vite, TypeScript and Tailwind CSS 4; the app's code is in \`src/\`. \`vite-guard.ts\` keeps
the build from reading any file outside \`src/\` and \`node_modules\` (the code was written by a model).
`;
}

/** "Pomodoro Timer!" -> "pomodoro-timer": a folder and package name. */
function slugOf(title: string): string {
  const slug = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug || 'vibe-app';
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
