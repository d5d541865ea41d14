import {
  ChannelType,
  MessageFlags,
  MessageType,
  type APIAttachment,
  type APIChannel,
  type APIMessage,
  type APIThreadChannel,
  type APIUser,
  type GatewayMessageCreateDispatchData,
} from 'discord.js';
import { invalidFormBody, threadAlreadyCreated, unknownChannel, unknownMessage, type FieldError } from './api-error.ts';
import type { DiscordFixture } from './fixture.ts';
import type { SnowflakeGenerator } from './snowflakes.ts';

/** Sends a dispatch (MESSAGE_CREATE, THREAD_CREATE, …) to the gateway's sessions. */
export type Publish = (event: string, data: unknown) => void;

/** A file of a multipart request (`files[n]`), as the REST layer decoded it. */
export interface UploadedFile {
  field: string;
  filename: string;
  contentType: string;
  size: number;
  data: Buffer;
}

/** An attachment of a message with the bytes that were uploaded for it. */
export interface FakeAttachmentFile {
  id: string;
  filename: string;
  size: number;
  content_type?: string;
  description?: string;
  data: Buffer;
}

/**
 * A message as it stands now, with how many times it was edited, its earlier versions, and its
 * attachments' bytes (`files`, in the order of `attachments`).
 */
export type FakeMessage = APIMessage & { edits: number; history: APIMessage[]; files: FakeAttachmentFile[] };

/** Discord's limit of attachments on one message. */
export const MAX_ATTACHMENTS = 10;

interface StoredMessage {
  data: APIMessage;
  edits: number;
  history: APIMessage[];
  deleted: boolean;
}

export interface CreateMessageOptions {
  author?: APIUser;
  /** Extra fields Discord sets for some messages (webhook_id, interaction_metadata, …). */
  extra?: Partial<APIMessage>;
  /** The files uploaded with the request (`files[n]`); `body.attachments` may describe them. */
  files?: UploadedFile[];
}

/**
 * The fake's channels and messages. Every change is also published as the gateway event Discord
 * would send (MESSAGE_CREATE / MESSAGE_UPDATE / MESSAGE_DELETE / THREAD_CREATE), so a bot sees its
 * own messages come back, as it does on Discord. Ephemeral messages are stored but not published.
 */
export class DiscordState {
  private readonly channelsById = new Map<string, APIChannel>();
  private readonly messagesByChannel = new Map<string, StoredMessage[]>();
  /** Uploaded bytes by attachment id (kept after an edit drops the attachment, as a CDN would). */
  private readonly uploads = new Map<string, { data: Buffer; contentType: string; filename: string }>();

  /** `cdnBase()`: the origin attachment URLs point at (the fake serves them, see `attachmentFile`). */
  constructor(
    readonly fixture: DiscordFixture,
    private readonly ids: SnowflakeGenerator,
    private readonly publish: Publish,
    private readonly cdnBase: () => string,
  ) {
    this.channelsById.set(fixture.textChannel.id, fixture.textChannel);
  }

  get channels(): APIChannel[] {
    return [...this.channelsById.values()];
  }

  channel(id: string): APIChannel | undefined {
    return this.channelsById.get(id);
  }

  requireChannel(id: string): APIChannel {
    const channel = this.channelsById.get(id);
    if (!channel) throw unknownChannel();
    return channel;
  }

  threads(): APIThreadChannel[] {
    return this.channels.filter(
      (c): c is APIThreadChannel => c.type === ChannelType.PublicThread || c.type === ChannelType.PrivateThread,
    );
  }

  /** Messages in a channel, oldest first, as they stand after edits (deleted ones left out). */
  messages(channelId: string): FakeMessage[] {
    return (this.messagesByChannel.get(channelId) ?? []).filter((m) => !m.deleted).map((m) => this.view(m));
  }

  message(channelId: string, messageId: string): FakeMessage {
    return this.view(this.stored(channelId, messageId));
  }

  /** The bytes behind an attachment URL (`/attachments/<channel>/<id>/<filename>`), as the CDN serves them. */
  attachmentFile(id: string, filename: string): { data: Buffer; contentType: string } | undefined {
    const upload = this.uploads.get(id);
    return upload && upload.filename === filename ? upload : undefined;
  }

  /**
   * A file a person attached to a slash command option (Discord uploads it first and passes the
   * interaction its attachment object, under `resolved.attachments`); served like any attachment.
   */
  uploadAttachment(channelId: string, file: { name: string; data: Uint8Array; contentType?: string }): APIAttachment {
    const id = this.ids.next();
    const url = `${this.cdnBase()}/attachments/${channelId}/${id}/${encodeURIComponent(file.name)}`;
    const data = Buffer.from(file.data);
    this.uploads.set(id, { data, contentType: file.contentType ?? '', filename: file.name });
    const size = pngSize(data);
    return {
      id,
      filename: file.name,
      size: data.length,
      url,
      proxy_url: url,
      ephemeral: true,
      ...(file.contentType ? { content_type: file.contentType } : {}),
      ...(size ?? {}),
    };
  }

  createMessage(channelId: string, body: Record<string, any>, options: CreateMessageOptions = {}): APIMessage {
    const channel = this.requireChannel(channelId);
    const replyTo = body.message_reference?.message_id;
    // A reply to a message that is not in the channel is refused, unless the sender said not to mind.
    if (
      replyTo !== undefined &&
      body.message_reference.fail_if_not_exists !== false &&
      !this.messagesByChannel.get(channelId)?.some((m) => m.data.id === String(replyTo) && !m.deleted)
    )
      throw invalidFormBody([
        { path: ['message_reference'], code: 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', message: 'Unknown message' },
      ]);
    const { attachments, embeds, commit } = this.attach(channelId, body, options.files ?? [], []);
    commit();
    const now = new Date().toISOString();
    const reply = body.message_reference?.message_id !== undefined;
    const data: APIMessage = {
      id: this.ids.next(),
      channel_id: channelId,
      author: options.author ?? this.fixture.bot,
      content: body.content ?? '',
      timestamp: now,
      edited_timestamp: null,
      tts: Boolean(body.tts),
      mention_everyone: false,
      mentions: this.mentionsIn(body.content),
      mention_roles: [],
      attachments,
      embeds: normalizeEmbeds(embeds),
      pinned: false,
      type: reply ? MessageType.Reply : MessageType.Default,
      flags: (body.flags ?? 0) as MessageFlags,
      components: body.components ?? [],
      ...(reply
        ? {
            message_reference: {
              type: 0,
              channel_id: channelId,
              message_id: body.message_reference.message_id,
              guild_id: this.fixture.guildId,
            },
          }
        : {}),
      ...(body.nonce !== undefined ? { nonce: body.nonce } : {}),
      ...options.extra,
    };
    const list = this.messagesByChannel.get(channelId) ?? [];
    list.push({ data, edits: 0, history: [], deleted: false });
    this.messagesByChannel.set(channelId, list);
    if ('last_message_id' in channel) channel.last_message_id = data.id;
    if (channel.type === ChannelType.PublicThread || channel.type === ChannelType.PrivateThread) {
      channel.message_count = (channel.message_count ?? 0) + 1;
      channel.total_message_sent = (channel.total_message_sent ?? 0) + 1;
    }
    if (!isEphemeral(data)) this.publish('MESSAGE_CREATE', this.gatewayMessage(data));
    return structuredClone(data);
  }

  /**
   * PATCH semantics: absent fields stay, `null` clears. `attachments` lists what the message keeps:
   * existing attachments by id, new uploads by their `files[n]` index; without it, existing ones
   * stay and uploads are added.
   */
  editMessage(channelId: string, messageId: string, body: Record<string, any>, files: UploadedFile[] = []): APIMessage {
    const stored = this.stored(channelId, messageId);
    const before = structuredClone(stored.data);
    const data = stored.data;
    const touchesFiles = 'attachments' in body || files.length > 0;
    const attached =
      touchesFiles || 'embeds' in body ? this.attach(channelId, body, files, data.attachments) : undefined;
    attached?.commit();
    if ('content' in body) {
      data.content = body.content ?? '';
      data.mentions = this.mentionsIn(data.content);
    }
    if ('embeds' in body) data.embeds = normalizeEmbeds(attached!.embeds);
    if ('components' in body) data.components = body.components ?? [];
    if (touchesFiles) data.attachments = attached!.attachments;
    // Only SUPPRESS_EMBEDS can be changed by an edit; editing a deferred reply ends its loading state.
    const suppress = (body.flags ?? 0) & MessageFlags.SuppressEmbeds;
    data.flags = (((data.flags ?? 0) & ~MessageFlags.SuppressEmbeds & ~MessageFlags.Loading) |
      suppress) as MessageFlags;
    data.edited_timestamp = new Date().toISOString();
    stored.history.push(before);
    stored.edits += 1;
    if (!isEphemeral(data)) this.publish('MESSAGE_UPDATE', this.gatewayMessage(data));
    return structuredClone(data);
  }

  deleteMessage(channelId: string, messageId: string): void {
    const stored = this.stored(channelId, messageId);
    stored.deleted = true;
    if (!isEphemeral(stored.data))
      this.publish('MESSAGE_DELETE', { id: messageId, channel_id: channelId, guild_id: this.fixture.guildId });
  }

  getMessage(channelId: string, messageId: string): APIMessage {
    return structuredClone(this.stored(channelId, messageId).data);
  }

  /**
   * Starts a public thread from a message, as `POST /channels/{id}/messages/{mid}/threads` does:
   * the thread's id is the message's id, and the message gains `thread` and HAS_THREAD.
   */
  startThreadFromMessage(
    channelId: string,
    messageId: string,
    body: Record<string, any>,
    owner = this.fixture.bot,
  ): APIThreadChannel {
    const parent = this.requireChannel(channelId);
    const stored = this.stored(channelId, messageId);
    if (this.channelsById.has(messageId)) throw threadAlreadyCreated();
    const now = new Date().toISOString();
    const thread: APIThreadChannel = {
      id: messageId,
      type: parent.type === ChannelType.GuildAnnouncement ? ChannelType.AnnouncementThread : ChannelType.PublicThread,
      guild_id: this.fixture.guildId,
      parent_id: channelId,
      owner_id: owner.id,
      name: String(body.name ?? 'thread'),
      last_message_id: null,
      rate_limit_per_user: body.rate_limit_per_user ?? 0,
      message_count: 0,
      member_count: 1,
      total_message_sent: 0,
      flags: 0 as APIThreadChannel['flags'],
      thread_metadata: {
        archived: false,
        auto_archive_duration: body.auto_archive_duration ?? 1440,
        archive_timestamp: now,
        locked: false,
        create_timestamp: now,
      },
      member: { id: messageId, user_id: owner.id, join_timestamp: now, flags: 0 as any },
    };
    this.channelsById.set(thread.id, thread);
    stored.data.thread = thread;
    stored.data.flags = ((stored.data.flags ?? 0) | MessageFlags.HasThread) as MessageFlags;
    this.publish('THREAD_CREATE', { ...thread, newly_created: true });
    return structuredClone(thread);
  }

  /** MESSAGE_CREATE / MESSAGE_UPDATE carry guild_id and the author's member (without user). */
  gatewayMessage(data: APIMessage): GatewayMessageCreateDispatchData {
    const memberOf = (userId: string): Record<string, unknown> | undefined => {
      const member = this.fixture.members.get(userId);
      if (!member) return undefined;
      const { user: _user, ...noUser } = member;
      return noUser;
    };
    const author = data.webhook_id ? undefined : memberOf(data.author.id);
    return {
      ...structuredClone(data),
      guild_id: this.fixture.guildId,
      ...(author ? { member: author } : {}),
      mentions: data.mentions.map((u) => {
        const member = memberOf(u.id);
        return member ? { ...u, member } : u;
      }),
    } as GatewayMessageCreateDispatchData;
  }

  /**
   * The attachments a create or edit leaves on the message, and its embeds with every
   * `attachment://<filename>` replaced by that attachment's URL (as Discord does). Refuses, before
   * anything changes, what Discord refuses: more than 10 attachments. Stricter than Discord on two
   * points, so a renderer bug fails its test: an `attachments` entry naming neither an upload nor an
   * attachment of the message, and an `attachment://` name no attachment has (Discord would show
   * no picture), are 50035 Invalid Form Body. `commit()` keeps the uploads' bytes.
   */
  private attach(
    channelId: string,
    body: Record<string, any>,
    files: UploadedFile[],
    existing: APIAttachment[],
  ): { attachments: APIAttachment[]; embeds: unknown; commit: () => void } {
    const errors: FieldError[] = [];
    const uploads = files.map((file, i) => ({ index: /^files\[(\d+)\]$/.exec(file.field)?.[1] ?? String(i), file }));
    const fresh: { file: UploadedFile; filename: string; description?: string }[] = [];
    let attachments: APIAttachment[] = [];
    if (Array.isArray(body.attachments)) {
      body.attachments.forEach((a: Record<string, any>, i: number) => {
        const upload = uploads.find((u) => u.index === String(a?.id));
        const kept = existing.find((e) => e.id === String(a?.id));
        if (upload) {
          fresh.push({
            file: upload.file,
            filename: typeof a.filename === 'string' && a.filename ? a.filename : upload.file.filename,
            ...(typeof a.description === 'string' ? { description: a.description } : {}),
          });
        } else if (kept) attachments.push(kept);
        else
          errors.push({
            path: ['attachments', i, 'id'],
            code: 'ATTACHMENT_NOT_FOUND',
            message: `Attachment ${String(a?.id)} is neither an upload of this request nor on the message`,
          });
      });
    } else {
      attachments = [...existing];
      fresh.push(...uploads.map((u) => ({ file: u.file, filename: u.file.filename })));
    }
    if (attachments.length + fresh.length > MAX_ATTACHMENTS)
      errors.push({
        path: ['attachments'],
        code: 'BASE_TYPE_MAX_LENGTH',
        message: `Must be ${MAX_ATTACHMENTS} or fewer in length.`,
      });
    const added = fresh.map(({ file, filename, description }) => {
      const id = this.ids.next();
      const url = `${this.cdnBase()}/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
      const size = pngSize(file.data);
      const attachment: APIAttachment = {
        id,
        filename,
        size: file.data.length,
        url,
        proxy_url: url,
        ...(file.contentType ? { content_type: file.contentType } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(size ? size : {}),
      };
      return { attachment, file, filename };
    });
    attachments.push(...added.map((a) => a.attachment));
    const embeds = Array.isArray(body.embeds)
      ? body.embeds.map((e: Record<string, any>, i: number) => {
          const out = structuredClone(e);
          for (const key of ['image', 'thumbnail'] as const) {
            const url = out?.[key]?.url;
            if (typeof url !== 'string' || !url.startsWith('attachment://')) continue;
            const name = url.slice('attachment://'.length);
            const target = attachments.find((a) => a.filename === name);
            if (!target) {
              errors.push({
                path: ['embeds', i, key, 'url'],
                code: 'ATTACHMENT_NOT_FOUND',
                message: `No attachment named ${name} on this message`,
              });
              continue;
            }
            out[key] = {
              url: target.url,
              proxy_url: target.proxy_url,
              ...(target.width ? { width: target.width, height: target.height } : {}),
              ...(target.content_type ? { content_type: target.content_type } : {}),
            };
          }
          return out;
        })
      : body.embeds;
    if (errors.length) throw invalidFormBody(errors);
    const commit = () => {
      for (const a of added)
        this.uploads.set(a.attachment.id, { data: a.file.data, contentType: a.file.contentType, filename: a.filename });
    };
    return { attachments, embeds, commit };
  }

  private view(stored: StoredMessage): FakeMessage {
    const files = stored.data.attachments.map((a): FakeAttachmentFile => ({
      id: a.id,
      filename: a.filename,
      size: a.size,
      ...(a.content_type ? { content_type: a.content_type } : {}),
      ...(a.description !== undefined ? { description: a.description } : {}),
      data: Buffer.from(this.uploads.get(a.id)?.data ?? Buffer.alloc(0)),
    }));
    return { ...structuredClone(stored.data), edits: stored.edits, history: structuredClone(stored.history), files };
  }

  private stored(channelId: string, messageId: string): StoredMessage {
    this.requireChannel(channelId);
    const stored = this.messagesByChannel.get(channelId)?.find((m) => m.data.id === messageId && !m.deleted);
    if (!stored) throw unknownMessage();
    return stored;
  }

  /** `<@id>` / `<@!id>` mentions of known members become `mentions`, as Discord resolves them. */
  private mentionsIn(content: unknown): APIUser[] {
    if (typeof content !== 'string') return [];
    const ids = new Set([...content.matchAll(/<@!?(\d+)>/g)].map((m) => m[1]!));
    return [...ids].flatMap((id) => {
      const user = this.fixture.members.get(id)?.user;
      return user ? [user] : [];
    });
  }
}

export function isEphemeral(message: APIMessage): boolean {
  return ((message.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
}

/** Discord returns every embed with `type: 'rich'` filled in. */
function normalizeEmbeds(embeds: unknown): APIMessage['embeds'] {
  if (!Array.isArray(embeds)) return [];
  return embeds.map((e) => ({ type: 'rich', ...e }));
}

/** A PNG's width and height from its IHDR chunk, as Discord reports them for images. */
function pngSize(data: Buffer): { width: number; height: number } | undefined {
  const signature = '89504e470d0a1a0a';
  if (data.length < 24 || data.subarray(0, 8).toString('hex') !== signature) return undefined;
  if (data.subarray(12, 16).toString('latin1') !== 'IHDR') return undefined;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}
