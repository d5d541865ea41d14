import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ComponentType,
  InteractionContextType,
  InteractionType,
  type APIApplicationCommandInteractionDataOption,
  type APIAttachment,
  type APIChannel,
  type APIChatInputApplicationCommandGuildInteraction,
  type APIInteractionGuildMember,
  type APIMessage,
  type APIMessageComponentGuildInteraction,
  type Locale,
} from 'discord.js';

/**
 * INTERACTION_CREATE payloads in the shapes Discord sends to a bot in a guild: a chat input
 * (slash) command and a button click. Pure builders; `FakeDiscord.sendCommand` / `clickButton`
 * fill the context from the fake's state and dispatch them.
 */

export interface InteractionContext {
  id: string;
  token: string;
  applicationId: string;
  guildId: string;
  /** The channel the interaction happened in (text channel or thread). */
  channel: APIChannel;
  /** The member who ran it, with their permission bitfield. */
  member: APIInteractionGuildMember;
  /** The bot's permissions in the channel, as a decimal bitfield string. */
  appPermissions: string;
  locale?: Locale;
}

/** Option values; the JS type picks the option type (string 3, integer 4, boolean 5, number 10). */
export type CommandOptionValues = Record<string, string | number | boolean>;

export interface ChatInputCommand {
  /** Command id (the registered one, if any). */
  commandId: string;
  name: string;
  /** `/vibe create prompt:…` has subcommand `create`; omit for a command without subcommands. */
  subcommand?: string;
  options?: CommandOptionValues;
  /** Attachment options (type 11): the option's value is the attachment's id, the object goes in `resolved`. */
  attachments?: Record<string, APIAttachment>;
}

export function chatInputInteraction(
  ctx: InteractionContext,
  command: ChatInputCommand,
): APIChatInputApplicationCommandGuildInteraction {
  const files = Object.entries(command.attachments ?? {});
  const values = [
    ...optionList(command.options ?? {}),
    ...files.map(([name, a]) => ({ type: ApplicationCommandOptionType.Attachment, name, value: a.id })),
  ] as APIApplicationCommandInteractionDataOption[];
  const options: APIApplicationCommandInteractionDataOption[] = command.subcommand
    ? [{ type: ApplicationCommandOptionType.Subcommand, name: command.subcommand, options: values as any }]
    : values;
  return {
    ...base(ctx),
    type: InteractionType.ApplicationCommand,
    data: {
      id: command.commandId,
      name: command.name,
      type: ApplicationCommandType.ChatInput,
      guild_id: ctx.guildId,
      options,
      ...(files.length ? { resolved: { attachments: Object.fromEntries(files.map(([, a]) => [a.id, a])) } } : {}),
    },
  } as APIChatInputApplicationCommandGuildInteraction;
}

/** A click on a button (component type 2) of `message`. */
export function buttonInteraction(
  ctx: InteractionContext,
  customId: string,
  message: APIMessage,
): APIMessageComponentGuildInteraction {
  return {
    ...base(ctx),
    type: InteractionType.MessageComponent,
    data: { custom_id: customId, component_type: ComponentType.Button },
    message,
  } as APIMessageComponentGuildInteraction;
}

function base(ctx: InteractionContext) {
  const locale = ctx.locale ?? ('en-US' as Locale);
  return {
    id: ctx.id,
    application_id: ctx.applicationId,
    token: ctx.token,
    version: 1 as const,
    guild_id: ctx.guildId,
    guild: { id: ctx.guildId, locale, features: [] },
    channel_id: ctx.channel.id,
    channel: ctx.channel,
    member: ctx.member,
    app_permissions: ctx.appPermissions,
    locale,
    guild_locale: locale,
    entitlements: [],
    // '0' = GUILD_INSTALL: the app is installed to this guild.
    authorizing_integration_owners: { '0': ctx.guildId },
    context: InteractionContextType.Guild,
    attachment_size_limit: 10_485_760,
  };
}

function optionList(values: CommandOptionValues): APIApplicationCommandInteractionDataOption[] {
  return Object.entries(values).map(([name, value]) => {
    const type =
      typeof value === 'string'
        ? ApplicationCommandOptionType.String
        : typeof value === 'boolean'
          ? ApplicationCommandOptionType.Boolean
          : Number.isInteger(value)
            ? ApplicationCommandOptionType.Integer
            : ApplicationCommandOptionType.Number;
    return { type, name, value } as APIApplicationCommandInteractionDataOption;
  });
}
