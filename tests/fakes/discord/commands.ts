import type { APIApplicationCommand } from 'discord.js';
import type { SnowflakeGenerator } from './snowflakes.ts';

/**
 * Registered application commands, global and per guild. A bulk overwrite (`PUT`) replaces the
 * whole list; a command keeps its id when its name stays, as Discord does.
 */
export class ApplicationCommands {
  private readonly lists = new Map<string, APIApplicationCommand[]>();

  constructor(
    private readonly ids: SnowflakeGenerator,
    private readonly applicationId: string,
  ) {}

  /** Commands of the guild, or the global ones when `guildId` is undefined. */
  list(guildId?: string): APIApplicationCommand[] {
    return structuredClone(this.lists.get(guildId ?? 'global') ?? []);
  }

  overwrite(body: Record<string, any>[], guildId?: string): APIApplicationCommand[] {
    const previous = this.lists.get(guildId ?? 'global') ?? [];
    const next = body.map((c): APIApplicationCommand => {
      const type = c.type ?? 1;
      const old = previous.find((p) => p.name === c.name && p.type === type);
      return {
        id: old?.id ?? this.ids.next(),
        application_id: this.applicationId,
        version: this.ids.next(),
        type,
        name: c.name,
        name_localizations: c.name_localizations ?? null,
        description: c.description ?? '',
        description_localizations: c.description_localizations ?? null,
        ...(c.options ? { options: c.options } : {}),
        default_member_permissions: c.default_member_permissions ?? null,
        nsfw: c.nsfw ?? false,
        ...(guildId
          ? { guild_id: guildId }
          : { integration_types: c.integration_types ?? [0], contexts: c.contexts ?? null }),
      } as APIApplicationCommand;
    });
    this.lists.set(guildId ?? 'global', next);
    return structuredClone(next);
  }
}
