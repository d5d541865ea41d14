import sharp from 'sharp';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MAX_IMAGE_BYTES, readImages, withImageNote } from '../../src/core/build/images.ts';
import { UserError } from '../../src/core/errors.ts';
import type { ImageAttachment } from '../../src/core/ports/images.ts';
import { makePng } from '../support/png.ts';

/** An attachment whose bytes are `bytes`; `fetched` counts downloads (a refusal by size must not download). */
function attachment(name: string, bytes: Uint8Array, size: number | null = bytes.length) {
  const seen = { fetched: 0, maxBytes: 0 };
  const a: ImageAttachment = {
    name,
    ...(size !== null ? { size } : {}),
    fetch: async (maxBytes) => {
      seen.fetched++;
      seen.maxBytes = maxBytes;
      return bytes;
    },
  };
  return Object.assign(a, { seen });
}

const picture = (format: 'png' | 'jpeg' | 'webp' | 'gif', width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#3366cc' } })
    [format]()
    .toBuffer()
    .then((b) => new Uint8Array(b));

describe('readImages', () => {
  it('resizes a large PNG to at most 1568 px on its long side, keeping its shape', async () => {
    const [img] = await readImages([attachment('mockup.png', makePng(3136, 2000))]);
    expect(img).toMatchObject({ name: 'mockup.png', mediaType: 'image/png', width: 1568, height: 1000 });
    const meta = await sharp(img!.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1568, 1000]);
  });

  it('keeps small pictures at their size, and reads JPEG, WebP and GIF by their bytes', async () => {
    const images = await readImages([
      attachment('a.jpg', await picture('jpeg', 640, 480)),
      attachment('b.webp', await picture('webp', 300, 900)),
      attachment('c.gif', await picture('gif', 20, 10)),
      attachment('photo-without-extension', await picture('png', 100, 100)),
    ]);
    expect(images.map((i) => [i.mediaType, i.width, i.height])).toEqual([
      ['image/jpeg', 640, 480],
      ['image/webp', 300, 900],
      ['image/gif', 20, 10],
      ['image/png', 100, 100],
    ]);
  });

  it('refuses a file over 10 MB by its declared size, before downloading anything', async () => {
    const big = attachment('huge.png', makePng(10, 10), 30 * 1024 * 1024);
    const small = attachment('ok.png', makePng(10, 10));
    await expect(readImages([small, big])).rejects.toThrow(/"huge\.png" is 30\.0 MB; a picture can be at most 10 MB/);
    expect(big.seen.fetched + small.seen.fetched).toBe(0);
  });

  it('refuses bytes over 10 MB even when the platform declared no size, and asks for no more than that', async () => {
    const over = attachment('big.png', new Uint8Array(MAX_IMAGE_BYTES + 1), null);
    await expect(readImages([over])).rejects.toThrow(/at most 10 MB/);
    expect(over.seen.maxBytes).toBe(MAX_IMAGE_BYTES);
  });

  it('refuses a text file named .png, whatever its name says', async () => {
    const fake = attachment('design.png', new TextEncoder().encode('<html>not a picture</html>'));
    const err = await readImages([fake]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/"design\.png" is not a PNG, JPEG, GIF or WebP picture/);
  });

  it('refuses a fifth picture before downloading any', async () => {
    const five = await Promise.all([1, 2, 3, 4, 5].map(async (n) => attachment(`p${n}.png`, makePng(8, 8, n))));
    await expect(readImages(five)).rejects.toThrow(/5 pictures; I take at most 4/);
    expect(five.every((a) => a.seen.fetched === 0)).toBe(true);
  });

  it('refuses a damaged picture (a PNG signature over garbage) with its name', async () => {
    const bytes = new Uint8Array([...makePng(4, 4).slice(0, 8), ...new Uint8Array(200).fill(7)]);
    await expect(readImages([attachment('broken.png', bytes)])).rejects.toThrow(/"broken\.png" could not be read/);
  });

  it('refuses a picture whose canvas is too large to decode safely (a small file claiming billions of pixels)', async () => {
    // A real 4x4 PNG whose header claims 60,000 x 60,000 pixels (its IHDR's CRC recomputed).
    const bomb = Buffer.from(makePng(4, 4));
    bomb.writeUInt32BE(60_000, 16);
    bomb.writeUInt32BE(60_000, 20);
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
    await expect(readImages([attachment('bomb.png', new Uint8Array(bomb))])).rejects.toThrow(/too many pixels/);
  });

  it('strips control characters and backticks from names, and the note names every picture', async () => {
    const [img] = await readImages([attachment('a`b\u0007.png', makePng(4, 4))]);
    expect(img!.name).toBe('ab.png');
    expect(withImageNote('make it blue', [img!])).toBe('make it blue [picture: ab.png]');
    expect(withImageNote('x', [img!, { ...img!, name: 'c.png' }])).toBe('x [pictures: ab.png, c.png]');
    expect(withImageNote('no pictures', [])).toBe('no pictures');
  });

  it('returns nothing for no attachments', async () => {
    expect(await readImages(undefined)).toEqual([]);
    expect(await readImages([])).toEqual([]);
  });
});
