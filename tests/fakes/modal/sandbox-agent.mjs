// Runs INSIDE a fake Modal sandbox (under bwrap, in the sandbox's own network and pid
// namespaces) as its first process. Plain JavaScript because it runs on the sandbox's bare
// `node`, with no tsx. It starts the sandbox's command, runs every exec, and relays TCP
// connections to ports inside the namespace, all on request of the fake control plane, which
// reaches it through a unix socket in a folder bound into the sandbox.
//
// argv[2]: config JSON { socketPath, command: string[], env: {}, cwd, address }
//   address: added to the namespace's loopback device before anything runs: the container's own
//   address, which the fake's tunnels and TCP probe connect to (a server bound to 127.0.0.1 only
//   is not reachable there, as on Modal). bwrap runs as root and keeps its capabilities, so this
//   first process may configure its network namespace.
// fd 3:    event lines to the fake: {"event":"ready"}, {"event":"main","pid":N},
//          {"event":"exit","code":N|null,"signal":S|null,"error"?:msg}
// Socket protocol: one JSON header line per connection, then
//   {"type":"connect","port":N}: to address:N; one status byte ("1" connected, "0" refused),
//     then raw bytes.
//   {"type":"exec","argv":[],"env":{},"cwd":""}: frames [type u8][length u32 BE][payload].
//     agent -> fake: 1 stdout, 2 stderr, 3 exit JSON {code, signal}, 4 started JSON {pid}
//     fake -> agent: 1 stdin data, 2 stdin EOF, 3 kill (payload: signal name)
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import net from 'node:net';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const events = createWriteStream('', { fd: 3 });
const emit = (event) => events.write(JSON.stringify(event) + '\n');

try {
  execFileSync('ip', ['addr', 'add', `${config.address}/32`, 'dev', 'lo'], { stdio: ['ignore', 'ignore', 'pipe'] });
} catch (err) {
  // Before "ready": the fake reports a container that failed to start, with this line.
  process.stderr.write(`cannot add ${config.address} to the sandbox's network: ${err.stderr ?? err.message}\n`);
  process.exit(1);
}

function frame(type, payload) {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head.writeUInt8(type, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

function relay(sock, header, rest) {
  const target = net.connect({ host: config.address, port: header.port });
  target.once('connect', () => {
    sock.write('1');
    if (rest.length > 0) target.write(rest);
    sock.pipe(target).pipe(sock);
    sock.resume();
  });
  target.once('error', () => {
    if (target.connecting) sock.end('0');
    else sock.destroy();
  });
  sock.once('error', () => target.destroy());
  sock.once('close', () => target.destroy());
}

function exec(sock, header, onFrame) {
  const send = (type, payload) => {
    if (!sock.destroyed) sock.write(frame(type, payload));
  };
  let finished = false;
  const finish = (code, signal) => {
    if (finished) return;
    finished = true;
    send(3, JSON.stringify({ code, signal }));
    sock.end();
  };
  const child = spawn(header.argv[0], header.argv.slice(1), {
    cwd: header.cwd,
    env: header.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // its own process group: a kill (its timeout) ends what it started too
  });
  const killAll = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  };
  child.stdin.on('error', () => {}); // the process may exit before reading its stdin
  child.stdout.on('data', (d) => send(1, d));
  child.stderr.on('data', (d) => send(2, d));
  child.once('spawn', () => send(4, JSON.stringify({ pid: child.pid })));
  child.once('error', (err) => {
    send(2, `${err.message}\n`);
    finish(err.code === 'ENOENT' ? 127 : 126, null);
  });
  child.once('close', (code, signal) => finish(code, signal));
  sock.once('close', () => {
    if (!finished) killAll('SIGKILL');
  });
  onFrame((type, payload) => {
    if (type === 1) child.stdin.write(payload);
    else if (type === 2) child.stdin.end();
    else if (type === 3) killAll(payload.toString() || 'SIGKILL');
  });
}

const server = net.createServer((sock) => {
  let buf = Buffer.alloc(0);
  let frameHandler = null;
  const onData = (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    if (frameHandler === null) {
      const nl = buf.indexOf(10);
      if (nl < 0) return;
      const header = JSON.parse(buf.subarray(0, nl).toString());
      buf = buf.subarray(nl + 1);
      if (header.type === 'connect') {
        sock.off('data', onData);
        sock.pause();
        relay(sock, header, buf);
        return;
      }
      exec(sock, header, (handler) => (frameHandler = handler));
    }
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      const type = buf.readUInt8(0);
      const payload = buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
      frameHandler(type, payload);
    }
  };
  sock.on('data', onData);
  sock.on('error', () => {});
});

server.listen(config.socketPath, () => {
  emit({ event: 'ready' });
  if (config.command.length === 0) return; // no entrypoint: the sandbox idles until terminated
  const main = spawn(config.command[0], config.command.slice(1), {
    cwd: config.cwd,
    env: config.env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  main.once('spawn', () => emit({ event: 'main', pid: main.pid }));
  main.once('error', (err) => {
    emit({ event: 'exit', code: err.code === 'ENOENT' ? 127 : 126, signal: null, error: err.message });
    events.end(() => process.exit(127));
  });
  main.once('exit', (code, signal) => {
    emit({ event: 'exit', code, signal });
    events.end(() => process.exit(code ?? 1));
  });
});
