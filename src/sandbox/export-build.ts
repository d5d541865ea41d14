import { gunzipSync } from 'node:zlib';

/** How long an export build may take inside the sandbox. */
export const EXPORT_TIMEOUT_MS = 120_000;
/** Where the export build goes inside a sandbox (its /tmp is its own tmpfs). */
const OUT_DIR = '/tmp/vibe-export';
/** What may come back: the built files, at most this much once unpacked, and this many files. */
const MAX_BYTES = 40 << 20;
const MAX_FILES = 2000;
/** One path segment of a built file: what Vite writes (hashed asset names), nothing else. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * The command run inside the sandbox for an export: a production build of the app's current
 * files with the template's config in export mode (VIBE_EXPORT_DIR: relative asset paths, none
 * of the bot's own plugins in the output), then every built file as gzipped JSON in base64 on
 * stdout (the agent's channel carries text). `node` is the Node inside the sandbox.
 */
export function exportBuildArgv(node: string): string[] {
  const pack =
    "const fs=require('fs'),path=require('path'),zlib=require('zlib');const root=process.argv[1];const out={};" +
    '(function walk(d){for(const e of fs.readdirSync(d,{withFileTypes:true})){const p=path.join(d,e.name);' +
    "if(e.isDirectory())walk(p);else if(e.isFile())out[path.relative(root,p)]=fs.readFileSync(p).toString('base64');}})(root);" +
    "process.stdout.write(zlib.gzipSync(JSON.stringify(out)).toString('base64'));";
  const script = [
    `rm -rf ${OUT_DIR}`,
    `VIBE_EXPORT_DIR=${OUT_DIR} "$0" node_modules/vite/bin/vite.js build --configLoader runner --logLevel warn 1>&2`,
    `"$0" -e "$1" ${OUT_DIR}`,
  ].join(' && ');
  return ['/bin/sh', '-c', script, node, pack];
}

/**
 * The built files from the sandbox's answer. The sandbox runs code a model wrote, so its answer
 * is checked like any input: bounded, and only plain relative paths (no `..`, no dot files).
 */
export function readExportBuild(stdout: string): Map<string, Uint8Array> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      gunzipSync(Buffer.from(stdout.trim(), 'base64'), { maxOutputLength: MAX_BYTES * 2 }).toString(),
    );
  } catch (err) {
    throw new Error(`the export build's answer could not be read (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the export build sent no files');
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length === 0 || entries.length > MAX_FILES)
    throw new Error(`the export build sent ${entries.length} files`);
  const files = new Map<string, Uint8Array>();
  let total = 0;
  for (const [path, data] of entries) {
    if (typeof data !== 'string' || !path.split('/').every((s) => SEGMENT.test(s)))
      throw new Error(`the export build sent a file it may not: ${JSON.stringify(path).slice(0, 80)}`);
    const bytes = Buffer.from(data, 'base64');
    total += bytes.length;
    if (total > MAX_BYTES) throw new Error('the export build is too large');
    files.set(path, bytes);
  }
  if (!files.has('index.html')) throw new Error('the export build has no index.html');
  return files;
}
