/** How long an export build may take inside the sandbox. */
export const EXPORT_TIMEOUT_MS = 120_000;
/** Where the export build goes inside a sandbox (its /tmp is its own tmpfs). */
const OUT_DIR = '/tmp/vibe-export';

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
