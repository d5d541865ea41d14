import type { Sharp } from 'sharp';
import { UserError } from '../errors.ts';
import type { ImageAttachment, ModelImage } from '../ports/images.ts';

// Pictures people attach ("make it look like this"): checked before anything else happens, so
// a refused picture costs nothing and leaves nothing half-done; resized to what the model reads
// best; never stored (the version's instruction only names them).

export const MAX_IMAGES = 4;
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
/** Claude reads pictures best at most this long on their long side (larger ones are scaled down by the API anyway). */
export const MAX_LONG_SIDE = 1568;
/** A picture with more pixels than this is refused before it is decoded (a small file can claim a huge canvas). */
const MAX_INPUT_PIXELS = 50_000_000;
/** The Messages API takes at most 5 MB of base64 per picture: 3.75 MB of bytes. */
const MAX_ENCODED_BYTES = 3_750_000;

/** What to build or change when a picture comes with no words. */
export const PICTURE_ONLY_PROMPT = 'Build the app shown in the picture.';
export const PICTURE_ONLY_CHANGE = 'Make the app look like the picture.';

type Kind = 'png' | 'jpeg' | 'gif' | 'webp';

/**
 * The pictures of one message, checked and resized, in order; [] when there are none. Throws a
 * UserError naming the first problem: more than 4, one over 10 MB (by the size the platform
 * declared, before any download, and again by the bytes), one that is not PNG, JPEG, GIF or
 * WebP by its bytes (whatever its name says), or one that cannot be decoded.
 */
export async function readImages(attachments: readonly ImageAttachment[] | undefined): Promise<ModelImage[]> {
  const list = attachments ?? [];
  if (list.length === 0) return [];
  if (list.length > MAX_IMAGES)
    throw new UserError(
      `You attached ${list.length} pictures; I take at most ${MAX_IMAGES} at a time. Nothing was built: send at most ${MAX_IMAGES}.`,
    );
  for (const a of list) if (a.size !== undefined && a.size > MAX_IMAGE_BYTES) throw tooLarge(a.name, a.size);
  const downloaded = await Promise.all(
    list.map(async (a) => ({ name: a.name, bytes: await a.fetch(MAX_IMAGE_BYTES) })),
  );
  const out: ModelImage[] = [];
  for (const { name, bytes } of downloaded) out.push(await prepare(safeName(name), bytes));
  return out;
}

/** The instruction as a version records it: the text, and the names of the pictures that came with it. */
export function withImageNote(text: string, images: readonly ModelImage[]): string {
  if (images.length === 0) return text;
  const names = images.map((i) => i.name).join(', ');
  return `${text} [${images.length === 1 ? 'picture' : 'pictures'}: ${names}]`;
}

async function prepare(name: string, bytes: Uint8Array): Promise<ModelImage> {
  if (bytes.length > MAX_IMAGE_BYTES) throw tooLarge(name, bytes.length);
  const kind = sniff(bytes);
  if (!kind)
    throw new UserError(
      `"${name}" is not a PNG, JPEG, GIF or WebP picture (judged by its contents, not its name). Nothing was built.`,
    );
  // Loaded on first use: a bot that never sees a picture never loads libvips.
  const { default: sharp } = await import('sharp');
  try {
    const input = sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' });
    const meta = await input.metadata();
    if (meta.format !== kind) throw new Error(`decoded as ${meta.format}, not ${kind}`);
    // rotate(): applies the camera's orientation; sharp writes no metadata unless asked (no EXIF, no GPS).
    const resized = input.rotate().resize({
      width: MAX_LONG_SIDE,
      height: MAX_LONG_SIDE,
      fit: 'inside',
      withoutEnlargement: true,
    });
    let encoded = await encode(resized.clone(), kind).toBuffer({ resolveWithObject: true });
    let mediaType: ModelImage['mediaType'] = `image/${kind}`;
    if (encoded.data.length > MAX_ENCODED_BYTES) {
      encoded = await resized
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: 80 })
        .toBuffer({ resolveWithObject: true });
      mediaType = 'image/jpeg';
    }
    return {
      name,
      mediaType,
      bytes: new Uint8Array(encoded.data),
      width: encoded.info.width,
      height: encoded.info.height,
    };
  } catch (err) {
    const why = err instanceof Error && /pixel limit/i.test(err.message) ? ' (it has too many pixels)' : '';
    throw new UserError(
      `"${name}" could not be read as a ${kind.toUpperCase()} picture${why}; it may be damaged. Nothing was built.`,
    );
  }
}

function encode(image: Sharp, kind: Kind): Sharp {
  switch (kind) {
    case 'jpeg':
      return image.jpeg({ quality: 85 });
    case 'webp':
      return image.webp({ quality: 85 });
    case 'gif':
      return image.gif();
    case 'png':
      return image.png();
  }
}

/** The picture's type by its first bytes (its magic number), whatever its name or declared type say. */
function sniff(b: Uint8Array): Kind | undefined {
  const starts = (sig: number[], at = 0) => sig.every((x, i) => b[at + i] === x);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (starts([0xff, 0xd8, 0xff])) return 'jpeg';
  if (starts([0x47, 0x49, 0x46, 0x38]) && (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61) return 'gif';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  return undefined;
}

function tooLarge(name: string, bytes: number): UserError {
  const mb = (bytes / (1024 * 1024)).toFixed(1);
  return new UserError(
    `"${safeName(name)}" is ${mb} MB; a picture can be at most ${MAX_IMAGE_BYTES / (1024 * 1024)} MB. Nothing was built.`,
  );
}

/** A file name as chat text: no control characters or backticks, at most 100 characters. */
function safeName(name: string): string {
  const clean = name.replace(/[\u0000-\u001f\u007f`]/g, '').trim() || 'picture';
  return clean.length > 100 ? `${clean.slice(0, 99)}…` : clean;
}
