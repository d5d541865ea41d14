// Discord's ids (see ../platform-ids.ts): channels and threads (a thread is a channel) "discord:G:C",
// messages "discord:G:C:M", people "discord:G:U" (G = guild id, or "dm").
import { platformIds } from '../platform-ids.ts';

const ids = platformIds('discord', 'Discord');
export const { channelKey, messageKey, userKey } = ids;
export const discordUserId = ids.userOf;

/** "discord:G:C[:M]" -> its parts; throws on anything else (a bug, not user input). */
export function parseKey(id: string): { guild: string; channel: string; message?: string } {
  const { workspace, channel, message } = ids.parse(id);
  return { guild: workspace, channel, ...(message ? { message } : {}) };
}
