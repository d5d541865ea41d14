import { deflateSync } from 'node:zlib';

/**
 * Real PNGs for the tests that deliver screenshots: `makePng` writes one (signature, IHDR, IDAT,
 * IEND, each chunk with its CRC), `readPng` checks one on the receiving side.
 */

const SIGNATURE = Buffer.from('89504e470d0a1a0a', 'hex');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * An RGB PNG of `width` x `height` (default the core's 1280 x 800 screenshot): a gradient with a
 * band of noise, so it compresses to a realistic tens of kilobytes rather than a few bytes.
 */
export function makePng(width = 1280, height = 800, seed = 1): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // colour type: RGB
  const row = 1 + width * 3;
  const pixels = Buffer.alloc(row * height);
  let state = seed >>> 0 || 1;
  for (let y = 0; y < height; y++) {
    pixels[y * row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const at = y * row + 1 + x * 3;
      const noisy = y % 16 === 0;
      state = (state * 1103515245 + 12345) >>> 0;
      pixels[at] = noisy ? state >>> 24 : (x * 255) / width;
      pixels[at + 1] = (y * 255) / height;
      pixels[at + 2] = 128;
    }
  }
  const png = Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/** Width and height of a PNG whose signature, IHDR and chunk CRCs are all valid; throws otherwise. */
export function readPng(bytes: Uint8Array): { width: number; height: number } {
  const buf = Buffer.from(bytes);
  if (!buf.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG: bad signature');
  let at = 8;
  let size: { width: number; height: number } | undefined;
  let ended = false;
  while (at < buf.length) {
    const length = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + length);
    if (crc32(buf.subarray(at + 4, at + 8 + length)) !== buf.readUInt32BE(at + 8 + length))
      throw new Error(`not a PNG: bad CRC in ${type}`);
    if (at === 8) {
      if (type !== 'IHDR' || length !== 13) throw new Error('not a PNG: IHDR is not first');
      size = { width: data.readUInt32BE(0), height: data.readUInt32BE(4) };
    }
    at += 12 + length;
    if (type === 'IEND') {
      ended = true;
      break;
    }
  }
  if (!size || !ended || at !== buf.length) throw new Error('not a PNG: truncated');
  return size;
}
