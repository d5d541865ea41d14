// The sandbox agent: the first process inside a local sandbox, started by the bot with an IPC
// channel. The bot never touches the app folder by path; it sends requests here instead:
//   { id, op: 'write', files }        make src/ exactly `files` (see sync-src.mjs)
//   { id, op: 'typecheck' }           the type check, from a compiler kept warm (type-check.mjs)
//   { id, op: 'run', argv, timeoutMs } run a command inside the sandbox (the command-line tsc)
//   { id, op: 'serve' } + a listening socket handle: start Vite and forward that socket to it
// and gets { id, ok: true, result } or { id, ok: false, error } back. The listening socket
// was opened by the bot outside the sandbox's network namespace, so the sandbox can accept
// connections on it but cannot connect anywhere itself. Plain JavaScript: it runs before any
// TypeScript loader, on the Node that runs the bot.
import { spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { syncSrc } from './sync-src.mjs';
import { TypeChecker } from './type-check.mjs';

const root = process.env.VIBE_APP_ROOT ?? process.cwd();
const vitePort = Number(process.env.VIBE_PORT ?? 5173);
const OUTPUT_CAP = 1 << 20;

/** The environment of everything the agent starts: its own, minus the IPC channel. */
function childEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.NODE_CHANNEL_FD;
  delete env.NODE_CHANNEL_SERIALIZATION_MODE;
  return env;
}

let vite;
const checker = new TypeChecker(root);
/** Writes and type checks of src/, one at a time: a check never reads files half written. */
let srcWork = Promise.resolve();
function onSrc(task) {
  const run = srcWork.then(task);
  srcWork = run.catch(() => undefined);
  return run;
}

/**
 * Vite's pre-bundled dependencies, made once by the bot from the template alone (no app code),
 * copied into this sandbox's own cache so the dev server need not bundle React and recharts
 * again. Vite checks them against its config and bundles afresh when they do not match.
 */
function seedDeps() {
  const seed = process.env.VIBE_DEPS_SEED;
  const cache = process.env.VIBE_CACHE_DIR;
  if (!seed || !cache) return;
  try {
    cpSync(seed, join(cache, 'deps'), { recursive: true });
  } catch (err) {
    console.warn(`vibe: the dependency seed was not copied (${err?.message ?? err}); Vite bundles them itself`);
  }
}

function serve(listener) {
  if (vite) throw new Error('already serving');
  seedDeps();
  vite = spawn(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), '--configLoader', 'runner'], {
    cwd: root,
    env: childEnv(),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // The sandbox lives as long as its dev server: when Vite goes, so does the agent, and the bot sees the exit.
  vite.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
  checker.warm();
  listener.on('connection', (client) => {
    const upstream = net.connect(vitePort, '127.0.0.1');
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
}

function run(argv, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: root,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs ?? 60_000,
    });
    const out = { stdout: '', stderr: '' };
    for (const name of ['stdout', 'stderr']) {
      child[name].setEncoding('utf8');
      child[name].on('data', (chunk) => {
        if (out[name].length < OUTPUT_CAP) out[name] += chunk;
      });
    }
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, ...out }));
  });
}

process.on('message', (msg, handle) => {
  const reply = (body) => process.connected && process.send({ id: msg?.id, ...body });
  (async () => {
    switch (msg?.op) {
      case 'write':
        return onSrc(() => syncSrc(root, msg.files));
      case 'typecheck':
        return onSrc(() => checker.check());
      case 'run':
        return run(msg.argv, msg.timeoutMs);
      case 'serve':
        if (!handle) throw new Error('serve needs a listening socket');
        return serve(handle);
      default:
        throw new Error(`unknown op ${JSON.stringify(msg?.op)}`);
    }
  })().then(
    (result) => reply({ ok: true, result }),
    (err) => reply({ ok: false, error: String(err?.message ?? err) }),
  );
});
// The bot went away: nothing may outlive it.
process.on('disconnect', () => {
  vite?.kill('SIGKILL');
  checker.close();
  process.exit(0);
});
process.send?.({ ready: true });
