/**
 * The whole of a stream from a sandbox (an exec's stdout, an HTTP body) as text, at most
 * `maxBytes` (UTF-8): past it, reading stops, the stream is cancelled and the call throws, so a
 * sandbox that prints without end costs the bot at most that much memory.
 */
export async function readCapped(
  stream: ReadableStream<string | Uint8Array>,
  maxBytes: number,
  what: string,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    size += chunk.length;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`${what} is over ${formatBytes(maxBytes)}: refused`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The last `maxBytes` of a stream's text, read to its end: for stderr, of which only the tail is shown. */
export async function readTail(stream: ReadableStream<string | Uint8Array>, maxBytes: number): Promise<string> {
  let tail = Buffer.alloc(0);
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > maxBytes) tail = tail.subarray(tail.length - maxBytes);
  }
  return tail.toString('utf8');
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / 2 ** 20).toFixed(n % (1 << 20) ? 1 : 0)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}
