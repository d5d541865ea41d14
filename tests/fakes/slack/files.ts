import { randomUUID } from 'node:crypto';
import type { ApiResult, FakeSlackWorkspace } from './workspace.ts';

/**
 * Slack's external file upload, as @slack/web-api@8's `files.uploadV2` drives it:
 * `files.getUploadURLExternal` (filename, length) hands out a file id and an upload URL (served by
 * the fake, on loopback); the bytes are POSTed there (raw, or multipart as the SDK sends them);
 * `files.completeUploadExternal` (files, channel_id, thread_ts) shares them, once. Strict where Slack
 * is: required arguments, the declared length, unknown or already completed file ids.
 */

/** A file as the fake holds it; `fake.files()` returns copies. */
export interface FakeSlackFile {
  id: string;
  filename: string;
  /** Declared by getUploadURLExternal; the upload must be exactly this many bytes. */
  length: number;
  /** Sent as `alt_text` by the SDK (Slack documents `alt_txt`; the fake takes either). */
  alt_text?: string;
  /** From completeUploadExternal's `files[].title`. */
  title?: string;
  /** The bytes POSTed to the upload URL; undefined until they arrive. */
  bytes?: Buffer;
  /** Set once completeUploadExternal shared the file. */
  completed: boolean;
  channel?: string;
  thread_ts?: string;
  initial_comment?: string;
  /** The ts of the message that shares it in the channel (or thread). */
  message_ts?: string;
}

type Args = Record<string, any>;

const fail = (error: string, extra: Record<string, unknown> = {}): ApiResult => ({ ok: false, error, ...extra });
const MAX_ALT_TEXT = 1000;
/** Slack's own ceiling for one file (1 GB). */
const MAX_LENGTH = 1024 ** 3;

export class FakeSlackFiles {
  private readonly byId = new Map<string, FakeSlackFile>();
  private readonly byUploadId = new Map<string, string>();
  private serial = 0;

  /** `uploadBase()`: the origin upload URLs live under (known once the server listens). */
  constructor(
    private readonly workspace: FakeSlackWorkspace,
    private readonly uploadBase: () => string,
  ) {}

  /** Copies, in the order the upload URLs were handed out. */
  list(): FakeSlackFile[] {
    return [...this.byId.values()].map((f) => ({ ...f, ...(f.bytes ? { bytes: Buffer.from(f.bytes) } : {}) }));
  }

  getUploadURL(args: Args): ApiResult {
    const filename = args.filename;
    const length = Number(args.length);
    if (typeof filename !== 'string' || filename.trim() === '') return fail('invalid_arguments');
    if (args.length === undefined || args.length === '' || !Number.isInteger(length) || length < 0)
      return fail('invalid_arguments');
    // Slack: "Typically only occurs when the `length` provided is 0."
    if (length === 0) return fail('missing_argument');
    if (length > MAX_LENGTH) return fail('file_upload_size_restricted');
    const alt = args.alt_txt ?? args.alt_text;
    if (typeof alt === 'string' && alt.length > MAX_ALT_TEXT) return fail('alt_txt_too_large');
    const id = `F0${(++this.serial).toString(36).toUpperCase().padStart(9, '0')}`;
    const uploadId = randomUUID();
    this.byUploadId.set(uploadId, id);
    this.byId.set(id, {
      id,
      filename,
      length,
      completed: false,
      ...(typeof alt === 'string' ? { alt_text: alt } : {}),
    });
    return { ok: true, upload_url: `${this.uploadBase()}/upload/v1/${uploadId}`, file_id: id };
  }

  /**
   * A POST to an upload URL: HTTP 200 with `OK - <bytes>` as Slack answers, or a non-200 when the
   * URL is unknown or used, or the bytes are not the declared length (Slack: "a non-200 response
   * indicates a failure"; its exact statuses are not documented).
   */
  async receive(
    uploadId: string,
    raw: Buffer,
    contentType: string,
  ): Promise<{ status: number; text: string; fileId?: string }> {
    const id = this.byUploadId.get(uploadId);
    const file = id ? this.byId.get(id) : undefined;
    if (!file) return { status: 404, text: 'upload URL not found' };
    const fileId = file.id;
    if (file.bytes) return { status: 400, text: 'already uploaded', fileId };
    const bytes = await uploadedBytes(raw, contentType);
    if (!bytes) return { status: 400, text: 'expected one file in the multipart body', fileId };
    if (bytes.length !== file.length)
      return { status: 400, text: `length mismatch: declared ${file.length}, received ${bytes.length}`, fileId };
    file.bytes = bytes;
    return { status: 200, text: `OK - ${bytes.length}`, fileId };
  }

  complete(args: Args): ApiResult {
    const entries = args.files;
    if (!Array.isArray(entries) || entries.length === 0) return fail('invalid_arguments');
    if (entries.some((e) => typeof e !== 'object' || e === null || typeof e.id !== 'string'))
      return fail('invalid_arguments');
    // Unknown ids, ids whose bytes never arrived, and ids already completed ("can only be called once").
    const files = entries.map((e: { id: string }) => this.byId.get(e.id));
    if (files.some((f) => !f || !f.bytes || f.completed)) return fail('file_not_found');
    const channel = typeof args.channel_id === 'string' && args.channel_id ? args.channel_id : args.channels;
    const thread = typeof args.thread_ts === 'string' && args.thread_ts ? args.thread_ts : undefined;
    if (thread && (typeof channel !== 'string' || !channel || channel.includes(','))) return fail('invalid_arguments');
    let messageTs: string | undefined;
    if (typeof channel === 'string' && channel) {
      const shared = this.workspace.shareFiles({
        channel,
        thread_ts: thread,
        text: typeof args.initial_comment === 'string' ? args.initial_comment : '',
        files: files.map((f) => f!.id),
      });
      if (!shared.ok) return shared;
      messageTs = String(shared.ts);
    }
    entries.forEach((e: { title?: unknown }, i) => {
      const file = files[i]!;
      file.completed = true;
      if (typeof e.title === 'string') file.title = e.title;
      if (typeof channel === 'string' && channel) file.channel = channel;
      if (thread) file.thread_ts = thread;
      if (messageTs) file.message_ts = messageTs;
      if (typeof args.initial_comment === 'string') file.initial_comment = args.initial_comment;
    });
    return { ok: true, files: files.map((f) => ({ id: f!.id, title: f!.title ?? f!.filename })) };
  }
}

/** Raw bytes, or the one file part of a multipart body (the SDK sends a `body` field). */
async function uploadedBytes(raw: Buffer, contentType: string): Promise<Buffer | undefined> {
  if (!contentType.startsWith('multipart/form-data')) return raw;
  const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
  const parts = [...form.values()].filter((v): v is File => typeof v !== 'string');
  if (parts.length !== 1) return undefined;
  return Buffer.from(await parts[0]!.arrayBuffer());
}
