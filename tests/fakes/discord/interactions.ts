import { InteractionResponseType, InteractionType, MessageFlags, type APIMessage } from 'discord.js';
import {
  alreadyAcknowledged,
  DiscordApiError,
  invalidWebhookToken,
  unknownInteraction,
  unknownMessage,
  unknownWebhook,
} from './api-error.ts';
import { checkMessageBody } from './message-limits.ts';
import type { DiscordState, UploadedFile } from './state.ts';

/**
 * Interactions the fake has sent and what the bot did with them: the callback (within
 * `callbackDeadlineMs`, Discord's 3 s), then the interaction webhook (`@original`, follow-ups),
 * which works until the token is `tokenTtlMs` old (Discord: 15 min) and then answers
 * 401 `50027 Invalid Webhook Token`.
 */

export interface FakeInteraction {
  id: string;
  token: string;
  applicationId: string;
  type: InteractionType;
  channelId: string;
  guildId: string;
  userId: string;
  /** The message a component sits on (component interactions only). */
  componentMessageId?: string;
  createdAt: number;
  /** The interaction callback, once the bot sent one. */
  callback?: { type: InteractionResponseType; data?: Record<string, any>; at: number };
  /** The message `@original` points to, once it exists (callback 4/5, or the component's message for 6/7). */
  originalMessageId?: string;
  followUpIds: string[];
}

export interface InteractionTimings {
  callbackDeadlineMs: number;
  tokenTtlMs: number;
}

export class InteractionBook {
  private readonly byId = new Map<string, FakeInteraction>();

  constructor(
    private readonly state: DiscordState,
    private readonly timings: InteractionTimings,
  ) {}

  add(interaction: Omit<FakeInteraction, 'followUpIds'>): FakeInteraction {
    const record = { ...interaction, followUpIds: [] };
    this.byId.set(record.id, record);
    return record;
  }

  get(id: string): FakeInteraction | undefined {
    return this.byId.get(id);
  }

  all(): FakeInteraction[] {
    return [...this.byId.values()];
  }

  /** Makes a token look `ageMs` old, so a test can reach the 15-minute expiry without waiting. */
  age(id: string, ageMs: number): void {
    const interaction = this.byId.get(id);
    if (!interaction) throw new Error(`fake discord: no interaction ${id}`);
    interaction.createdAt = Date.now() - ageMs;
  }

  /** `POST /interactions/{id}/{token}/callback`; returns the `with_response` body. */
  respond(id: string, token: string, body: Record<string, any>, files: UploadedFile[] = []): Record<string, unknown> {
    const interaction = this.byId.get(id);
    if (!interaction || interaction.token !== token) throw unknownInteraction();
    // Discord forgets an interaction that was not answered within 3 s.
    if (!interaction.callback && Date.now() - interaction.createdAt > this.timings.callbackDeadlineMs)
      throw unknownInteraction();
    if (interaction.callback) throw alreadyAcknowledged();
    const type = body.type as InteractionResponseType;
    const data: Record<string, any> = body.data ?? {};
    const isComponent =
      interaction.type === InteractionType.MessageComponent || interaction.type === InteractionType.ModalSubmit;
    let message: APIMessage | undefined;
    switch (type) {
      case InteractionResponseType.ChannelMessageWithSource:
        this.check(data, 'create', files.length);
        message = this.createResponseMessage(interaction, data, data.flags ?? 0, true, files);
        break;
      case InteractionResponseType.DeferredChannelMessageWithSource:
        // A deferred reply is a real, empty message in LOADING state until @original is edited.
        message = this.createResponseMessage(
          interaction,
          {},
          ((data.flags ?? 0) & MessageFlags.Ephemeral) | MessageFlags.Loading,
        );
        break;
      case InteractionResponseType.DeferredMessageUpdate:
      case InteractionResponseType.UpdateMessage:
        if (!isComponent || !interaction.componentMessageId) {
          throw new DiscordApiError(400, 50035, 'Invalid Form Body', {
            type: {
              _errors: [{ code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'Interaction response type is invalid' }],
            },
          });
        }
        interaction.originalMessageId = interaction.componentMessageId;
        if (type === InteractionResponseType.UpdateMessage) {
          this.check(data, 'edit');
          message = this.state.editMessage(interaction.channelId, interaction.componentMessageId, data, files);
        } else message = this.state.getMessage(interaction.channelId, interaction.componentMessageId);
        break;
      case InteractionResponseType.Modal:
      case InteractionResponseType.ApplicationCommandAutocompleteResult:
        break;
      default:
        throw new DiscordApiError(400, 50035, 'Invalid Form Body', {
          type: {
            _errors: [{ code: 'BASE_TYPE_CHOICES', message: `Value must be one of ${[4, 5, 6, 7, 8, 9].join(', ')}.` }],
          },
        });
    }
    interaction.callback = { type, ...(body.data ? { data } : {}), at: Date.now() };
    return {
      interaction: {
        id: interaction.id,
        type: interaction.type,
        ...(message
          ? {
              response_message_id: message.id,
              response_message_loading: ((message.flags ?? 0) & MessageFlags.Loading) !== 0,
              response_message_ephemeral: ((message.flags ?? 0) & MessageFlags.Ephemeral) !== 0,
            }
          : {}),
      },
      resource: { type, ...(message ? { message } : {}) },
    };
  }

  /** Resolves `/webhooks/{application_id}/{token}` to its interaction, enforcing the token's lifetime. */
  byWebhook(applicationId: string, token: string): FakeInteraction {
    const interaction = [...this.byId.values()].find((i) => i.token === token);
    if (!interaction || interaction.applicationId !== applicationId) throw unknownWebhook();
    if (Date.now() - interaction.createdAt > this.timings.tokenTtlMs) throw invalidWebhookToken();
    return interaction;
  }

  /** Resolves `@original` or a follow-up id to a message of this interaction. */
  messageId(interaction: FakeInteraction, ref: string): string {
    if (ref === '@original') {
      if (!interaction.originalMessageId) throw unknownMessage();
      return interaction.originalMessageId;
    }
    if (ref !== interaction.originalMessageId && !interaction.followUpIds.includes(ref)) throw unknownMessage();
    return ref;
  }

  getMessage(interaction: FakeInteraction, ref: string): APIMessage {
    return this.state.getMessage(interaction.channelId, this.messageId(interaction, ref));
  }

  editMessage(
    interaction: FakeInteraction,
    ref: string,
    body: Record<string, any>,
    files: UploadedFile[] = [],
  ): APIMessage {
    this.check(body, 'edit');
    return this.state.editMessage(interaction.channelId, this.messageId(interaction, ref), body, files);
  }

  deleteMessage(interaction: FakeInteraction, ref: string): void {
    this.state.deleteMessage(interaction.channelId, this.messageId(interaction, ref));
  }

  /** `POST /webhooks/{app}/{token}`: a follow-up, allowed once the interaction was answered. */
  followUp(interaction: FakeInteraction, body: Record<string, any>, files: UploadedFile[] = []): APIMessage {
    if (!interaction.callback) throw unknownWebhook();
    this.check(body, 'create', files.length);
    const message = this.createResponseMessage(interaction, body, body.flags ?? 0, false, files);
    interaction.followUpIds.push(message.id);
    return message;
  }

  private check(body: Record<string, any>, kind: 'create' | 'edit', uploads = 0): void {
    const error = checkMessageBody(body, kind, uploads);
    if (error) throw error;
  }

  private createResponseMessage(
    interaction: FakeInteraction,
    body: Record<string, any>,
    flags: number,
    original = true,
    files: UploadedFile[] = [],
  ): APIMessage {
    const user = this.state.fixture.members.get(interaction.userId)?.user ?? this.state.fixture.user;
    const message = this.state.createMessage(
      interaction.channelId,
      { ...body, flags },
      {
        extra: {
          webhook_id: interaction.applicationId,
          application_id: interaction.applicationId,
          // A slash command's own reply is a CHAT_INPUT_COMMAND message (20); follow-ups are plain ones.
          type: original && interaction.type === InteractionType.ApplicationCommand ? 20 : 0,
          interaction_metadata: {
            id: interaction.id,
            type: interaction.type,
            user,
            authorizing_integration_owners: { '0': interaction.guildId },
            ...(original ? {} : { original_response_message_id: interaction.originalMessageId }),
          } as APIMessage['interaction_metadata'],
        },
        files,
      },
    );
    if (original) interaction.originalMessageId = message.id;
    return message;
  }
}
