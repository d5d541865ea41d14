import type { FileMap } from '../core/ports/index.ts';

// A minimal ustar writer: files go into a remote sandbox as one tar through one `exec`,
// instead of one round trip per file. Paths are our validated relative paths (< 100 bytes).

const BLOCK = 512;

/**
 * The files as one archive, entries sorted by path. `mtime` (epoch seconds, default now) is
 * fixed by the image build, so the same files always give the same bytes.
 */
export function tarFiles(files: FileMap, mtime = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  for (const [path, text] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const body = Buffer.from(text, 'utf8');
    parts.push(header(path, body.length, mtime), body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2)); // end of archive
  return Buffer.concat(parts);
}

function header(path: string, size: number, mtime: number): Buffer {
  if (Buffer.byteLength(path) > 99) throw new Error(`path too long for tar: ${path}`);
  const h = Buffer.alloc(BLOCK);
  const put = (value: string, offset: number, length: number) => h.write(value, offset, length, 'utf8');
  const octal = (n: number, length: number) => `${n.toString(8).padStart(length - 1, '0')}\0`;
  put(path, 0, 100);
  put(octal(0o644, 8), 100, 8); // mode
  put(octal(0, 8), 108, 8); // uid
  put(octal(0, 8), 116, 8); // gid
  put(octal(size, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put('        ', 148, 8); // checksum placeholder: spaces while summing
  put('0', 156, 1); // regular file
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}
