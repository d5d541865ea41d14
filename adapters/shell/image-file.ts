import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { ImageAttachment } from '../../src/core/ports/images.ts';

/**
 * A picture file on this machine (`/image PATH` in the terminal chat) as the core's attachment:
 * its size from the file system (at once), and at most `maxBytes + 1` of its bytes read when asked.
 * Undefined when there is no such file.
 */
export function fileAttachment(path: string): ImageAttachment | undefined {
  const full = resolve(path);
  // Synchronous, so a `/image` line is attached before the next line is read.
  const info = statSync(full, { throwIfNoEntry: false });
  if (!info?.isFile()) return undefined;
  return {
    name: basename(full),
    size: info.size,
    fetch: async (maxBytes) => {
      const handle = await open(full, 'r');
      try {
        const buffer = Buffer.alloc(Math.min(info.size, maxBytes + 1));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
        return new Uint8Array(buffer.subarray(0, bytesRead));
      } finally {
        await handle.close();
      }
    },
  };
}
