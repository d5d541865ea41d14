import type { ServerResponse } from 'node:http';
import type { ApiResult, FakeSlackWorkspace } from './workspace.ts';

/**
 * Files people share in Slack (a screenshot attached to a mention or a thread reply), as a bot
 * sees them: in the event's `files` (the full file object, or only `{ id, file_access:
 * 'check_file_info' }`, as Slack sends for some files, so the bot must call `files.info`), and
 * behind `url_private_download`, which needs `Authorization: Bearer <bot token>` with
 * `files:read`. Without a usable token Slack answers with its sign-in page (an HTML page, status
 * 200), not an error: a bot that does not check gets HTML where it expected a picture.
 */

export interface UserFileInput {
  name: string;
  bytes: Uint8Array;
  /** What the uploader's client declared (Slack trusts the client): default from the name. */
  mimetype?: string;
  /** Default U0USER. */
  user?: string;
  /** Events carry only `{ id, file_access: 'check_file_info' }`: the bot must ask files.info. */
  checkFileInfo?: boolean;
}

type Args = Record<string, any>;

export class FakeUserFiles {
  private readonly byId = new Map<string, { file: Record<string, unknown>; bytes: Buffer }>();
  private serial = 0;
  /** Every download the fake answered: the file id, and whether it served the bytes. */
  readonly downloads: { id: string; served: boolean }[] = [];

  constructor(
    private readonly ws: FakeSlackWorkspace,
    private readonly origin: () => string,
    /** Whether a bearer token may read files (a valid bot token with files:read). */
    private readonly mayRead: (token: string | undefined) => boolean,
  ) {}

  /** Registers a file a person shared; returns it as an event's `files[]` entry carries it. */
  add(input: UserFileInput): Record<string, unknown> {
    const id = `F1${(++this.serial).toString(36).toUpperCase().padStart(8, '0')}`;
    const team = this.ws.identity.teamId;
    const name = input.name;
    const base = `${this.origin()}/files-pri/${team}-${id}`;
    const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? 'binary';
    const file = {
      id,
      created: Math.floor(Date.now() / 1000),
      timestamp: Math.floor(Date.now() / 1000),
      name,
      title: name,
      mimetype: input.mimetype ?? MIME[ext] ?? 'application/octet-stream',
      filetype: ext,
      pretty_type: ext.toUpperCase(),
      user: input.user ?? 'U0USER',
      user_team: team,
      editable: false,
      size: input.bytes.length,
      mode: 'hosted',
      is_external: false,
      external_type: '',
      is_public: true,
      public_url_shared: false,
      display_as_bot: false,
      username: '',
      url_private: `${base}/${encodeURIComponent(name)}`,
      url_private_download: `${base}/download/${encodeURIComponent(name)}`,
      permalink: `https://${this.ws.identity.teamDomain}.slack.com/files/${input.user ?? 'U0USER'}/${id}/${name}`,
    };
    this.byId.set(id, { file, bytes: Buffer.from(input.bytes) });
    return input.checkFileInfo ? { id, mode: 'hidden_by_limit', file_access: 'check_file_info' } : { ...file };
  }

  /** files.info: the whole file object. */
  info(args: Args): ApiResult {
    const entry = typeof args.file === 'string' ? this.byId.get(args.file) : undefined;
    if (!entry) return { ok: false, error: 'file_not_found' };
    return { ok: true, file: { ...entry.file }, comments: [], response_metadata: { next_cursor: '' } };
  }

  /** GET /files-pri/<team>-<id>/[download/]<name>: the bytes, or the sign-in page. */
  serve(path: string, token: string | undefined, res: ServerResponse): void {
    const m = /^\/files-pri\/([A-Z0-9]+)-([A-Z0-9]+)\/(?:download\/)?([^/]+)$/.exec(path);
    const entry = m && m[1] === this.ws.identity.teamId ? this.byId.get(m[2]!) : undefined;
    if (!entry || decodeURIComponent(m![3]!) !== entry.file.name) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('file not found');
      return;
    }
    if (!this.mayRead(token)) {
      this.downloads.push({ id: m![2]!, served: false });
      const page = '<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to continue</body></html>';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(page) });
      res.end(page);
      return;
    }
    this.downloads.push({ id: m![2]!, served: true });
    res.writeHead(200, {
      'content-type': String(entry.file.mimetype),
      'content-length': entry.bytes.length,
      'content-disposition': `attachment; filename="${encodeURIComponent(String(entry.file.name))}"`,
    });
    res.end(entry.bytes);
  }
}

const MIME: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  txt: 'text/plain',
  pdf: 'application/pdf',
};
