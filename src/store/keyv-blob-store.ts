import type Keyv from 'keyv';
import type { BlobStore } from '../core/ports/index.ts';
import type { StoreKeys } from './keys.ts';
import type { StorePrimitives } from './primitives.ts';

/** A blob key: a sha256 hex digest, optionally with its compressed variant's suffix. */
const BLOB_KEY = /^[0-9a-f]{64}(\.br|\.gz)?$/;

/** The default BlobStore: each blob one Keyv value (base64), beside the apps in the same store. */
export class KeyvBlobStore implements BlobStore {
  constructor(
    private readonly keyv: Keyv,
    private readonly primitives: StorePrimitives,
    private readonly keys: StoreKeys,
  ) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    if (!BLOB_KEY.test(key)) return undefined;
    const value = await this.keyv.get<string>(this.keys.blob(key));
    return typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
  }

  async put(key: string, bytes: Uint8Array): Promise<boolean> {
    if (!BLOB_KEY.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key).slice(0, 80)}`);
    const k = this.keys.blob(key);
    if (await this.keyv.has(k)) return false;
    await this.keyv.set(k, Buffer.from(bytes).toString('base64'));
    // Two publishers racing on one new blob may both count it: the figure is an upper bound.
    await this.primitives.addWindowed(this.keys.blobBytes(), bytes.length, FOREVER_MS);
    return true;
  }

  async storedBytes(): Promise<number> {
    const [n = 0] = await this.primitives.readWindowed([this.keys.blobBytes()]);
    return n;
  }
}

/** A windowed counter that never expires in practice (a thousand years) is a plain total. */
const FOREVER_MS = 1000 * 365 * 24 * 3600_000;
