// Installs sandbox-template/node_modules once, and again only when its lock file changes.
// Every sandbox symlinks to that one node_modules, so apps never run npm themselves.
// First, on every run, copies the core's web types into the template (see WEB_TYPES below).
// Run by the root `postinstall`; plain Node, no dependencies.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const rootDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const templateDir = join(rootDir, 'sandbox-template');
const lockFile = join(templateDir, 'package-lock.json');
const stampFile = join(templateDir, 'node_modules', '.vibe-install-stamp');

// The content types and what is worth compressing live in the core (src/core/apps/web-types.ts);
// sandboxes see only the template's folder, so its plugins import this generated copy.
const WEB_TYPES = { from: 'src/core/apps/web-types.ts', to: join('vibe-plugins', 'web-types.ts') };
const webTypes = `// Generated from ${WEB_TYPES.from} by scripts/install-template.mjs: do not edit, edit that file.\n${readFileSync(join(rootDir, WEB_TYPES.from), 'utf8')}`;
const webTypesCopy = join(templateDir, WEB_TYPES.to);
if (!existsSync(webTypesCopy) || readFileSync(webTypesCopy, 'utf8') !== webTypes) {
  writeFileSync(webTypesCopy, webTypes);
  console.log(`sandbox-template: wrote ${WEB_TYPES.to} from ${WEB_TYPES.from}`);
}

const lockHash = createHash('sha256').update(readFileSync(lockFile)).digest('hex');
const stamp = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';

if (stamp === lockHash) {
  console.log('sandbox-template: node_modules is up to date (lock unchanged), nothing to do');
  process.exit(0);
}

// Inside the root install npm passes its own settings down as npm_config_* variables;
// those that change what gets installed or where (omit=dev, global, prefix...) must not leak in.
const env = { ...process.env };
for (const key of Object.keys(env)) {
  if (
    /^npm_config_(global|prefix|location|omit|include|production|only|dry_run|package_lock_only|workspaces?|include_workspace_root|save.*)$/i.test(
      key,
    )
  )
    delete env[key];
}

const started = Date.now();
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], {
  cwd: templateDir,
  env,
  stdio: ['ignore', 'inherit', 'inherit'],
  shell: process.platform === 'win32',
});
if (r.status !== 0) {
  console.error(`sandbox-template: npm ci failed (${r.error?.message ?? `exit ${r.status}`})`);
  process.exit(r.status || 1);
}
writeFileSync(stampFile, `${lockHash}\n`);
console.log(
  `sandbox-template: installed node_modules with npm ci (${stamp ? 'lock file changed' : 'was missing'}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
