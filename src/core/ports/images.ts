// Pictures on their way from a chat message to the model (checked and resized by images.ts).

/**
 * A picture attached to a chat message, as the adapter found it: its bytes are fetched only once
 * the declared size passed (`src/core/build/images.ts`), and never more than `maxBytes` of them.
 */
export interface ImageAttachment {
  name: string;
  /** Size the platform declared, in bytes, when it says. */
  size?: number;
  fetch(maxBytes: number): Promise<Uint8Array>;
}

/**
 * A picture that goes to the model with the text ("make it look like this"): checked and resized
 * by `src/core/build/images.ts`, never stored.
 */
export interface ModelImage {
  /** The file name it came with (said in the version's instruction). */
  name: string;
  mediaType: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';
  bytes: Uint8Array;
  width: number;
  height: number;
}
