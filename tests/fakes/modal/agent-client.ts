import net from 'node:net';

/** Host side of the sandbox agent's unix-socket protocol (see sandbox-agent.mjs). */

export interface ExecHeader {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

export const AgentFrame = { Stdout: 1, Stderr: 2, Exit: 3, Started: 4 } as const;
export const HostFrame = { StdinData: 1, StdinEof: 2, Kill: 3 } as const;

export function encodeFrame(type: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head.writeUInt8(type, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into [type, payload] frames. */
export class FrameReader {
  #buf = Buffer.alloc(0);
  constructor(private readonly onFrame: (type: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 5) {
      const len = this.#buf.readUInt32BE(1);
      if (this.#buf.length < 5 + len) return;
      const type = this.#buf.readUInt8(0);
      const payload = this.#buf.subarray(5, 5 + len);
      this.#buf = this.#buf.subarray(5 + len);
      this.onFrame(type, payload);
    }
  }
}

function dial(socketPath: string, header: object): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    sock.once('connect', () => {
      sock.off('error', reject);
      sock.write(`${JSON.stringify(header)}\n`);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

/** Starts a process in the sandbox; the socket then carries frames both ways. */
export function openExec(socketPath: string, header: ExecHeader): Promise<net.Socket> {
  return dial(socketPath, { type: 'exec', ...header });
}

/**
 * A raw byte stream to 127.0.0.1:`port` inside the sandbox, or null when nothing listens there.
 */
export async function connectPort(socketPath: string, port: number): Promise<net.Socket | null> {
  const sock = await dial(socketPath, { type: 'connect', port });
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      sock.off('data', onData);
      sock.off('close', onClose);
      sock.pause();
      if (chunk[0] !== 0x31) {
        sock.destroy();
        resolve(null);
        return;
      }
      if (chunk.length > 1) sock.unshift(chunk.subarray(1));
      resolve(sock);
    };
    const onClose = (): void => resolve(null);
    sock.on('data', onData);
    sock.once('close', onClose);
    sock.on('error', () => {});
  });
}
