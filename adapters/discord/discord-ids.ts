// Platform-qualified ids for Discord: channels and threads (a thread is a channel)
// "discord:G:C", messages "discord:G:C:M", people "discord:G:U" (G = guild id, or "dm").

export const channelKey = (guild: string, channel: string) => `discord:${guild}:${channel}`;
export const messageKey = (guild: string, channel: string, message: string) => `discord:${guild}:${channel}:${message}`;
export const userKey = (guild: string, user: string) => `discord:${guild}:${user}`;

/** "discord:G:C[:M]" -> its parts; throws on anything else (a bug, not user input). */
export function parseKey(id: string): { guild: string; channel: string; message?: string } {
  const [platform, guild, channel, message] = id.split(':');
  if (platform !== 'discord' || !guild || !channel) throw new Error(`not a Discord id: ${id}`);
  return { guild, channel, message };
}

/** The Discord user id inside "discord:G:U", or undefined for other platforms' ids. */
export function discordUserId(key: string): string | undefined {
  const [platform, , user] = key.split(':');
  return platform === 'discord' && user ? user : undefined;
}
