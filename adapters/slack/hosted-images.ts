import { createHash } from 'node:crypto';
import type { webApi } from '@slack/bolt';
import type { Logger } from '../../src/core/ports/index.ts';
import { clip } from './slack-text.ts';

/** Pictures remembered (their Slack file ids), at most; the oldest are forgotten first. */
const KEPT = 500;

/**
 * Block Kit shows a picture from a public URL or from a file in Slack (`slack_file`). Where a
 * card's PNG must show inside blocks (a link's unfurl, the App Home), it is uploaded once, shared
 * nowhere (`files.uploadV2` without a channel: only the bot has it, and blocks it posts may show
 * it), and its file id remembered by the picture's hash. A failed upload is logged: no picture.
 */
export class SlackHostedImages {
  private readonly ids = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  /** The Slack file id of `png` (uploading it the first time), or undefined when it could not be uploaded. */
  fileFor(png: Uint8Array, alt: string): Promise<string | undefined> {
    const key = createHash('sha256').update(png).digest('hex');
    const known = this.ids.get(key);
    if (known) return known;
    const upload = this.upload(png, alt);
    this.ids.set(key, upload);
    if (this.ids.size > KEPT) this.ids.delete(this.ids.keys().next().value!);
    // A failure is not remembered: the next card tries again.
    void upload.then((id) => (id ? undefined : this.ids.delete(key)));
    return upload;
  }

  private async upload(png: Uint8Array, alt: string): Promise<string | undefined> {
    try {
      const res = (await this.client.files.uploadV2({
        file: Buffer.from(png.buffer, png.byteOffset, png.byteLength),
        filename: 'screenshot.png',
        title: clip(alt, 250),
        alt_text: clip(alt, 1000),
      })) as { files?: { files?: { id?: string }[] }[] };
      return res.files?.[0]?.files?.[0]?.id;
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      this.logger.warn({ err, code }, 'slack: a picture for blocks could not be uploaded; shown without it');
      return undefined;
    }
  }
}
