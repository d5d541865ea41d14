import { randomInt } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * The app-id grammar, defined once: lowercase letters and digits, 4 to 32 of them. An app id is
 * a URL segment, a folder name and (for per-app origins) a DNS label, so nothing else is allowed.
 */
export const APP_ID_PATTERN = '[a-z0-9]{4,32}';
const APP_ID = new RegExp(`^${APP_ID_PATTERN}$`);

export function isAppId(s: string): boolean {
  return APP_ID.test(s);
}

/** Short, URL-safe, unguessable id (10 base36 chars from the CSPRNG ≈ 51 bits): app ids, error ids. */
export function newId(length = 10): string {
  let id = '';
  for (let i = 0; i < length; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/**
 * "slack:T1:C9" -> "slack:T1", "shell:general" -> "shell": the workspace (or Discord server) a
 * channel id belongs to (adapters/platform-ids.ts: a channel's workspace is all but its last part).
 */
export function workspaceOf(channelId: string): string {
  return channelId.split(':').slice(0, -1).join(':');
}

/** "slack:T1:C9" -> "T1": the platform's own team or guild id, as VIBE_ALLOWED_TEAMS lists them. */
export function teamOf(channelId: string): string {
  return workspaceOf(channelId).split(':').slice(1).join(':');
}
