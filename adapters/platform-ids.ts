// Platform-qualified ids, the same shape on every platform: channels "<p>:<workspace>:<channel>",
// messages and threads "<p>:<workspace>:<channel>:<message>", people "<p>:<workspace>:<user>".
// The core treats them as opaque strings, except that a channel's workspace is all but its last part.

export interface PlatformIds {
  channelKey(workspace: string, channel: string): string;
  messageKey(workspace: string, channel: string, message: string): string;
  userKey(workspace: string, user: string): string;
  /** "<p>:W:C[:M]" -> its parts; throws on anything else (a bug, not user input). */
  parse(id: string): { workspace: string; channel: string; message?: string };
  /** The platform's own user id inside "<p>:W:U", or undefined for other platforms' ids. */
  userOf(key: string): string | undefined;
}

export function platformIds(platform: string, label: string): PlatformIds {
  return {
    channelKey: (workspace, channel) => `${platform}:${workspace}:${channel}`,
    messageKey: (workspace, channel, message) => `${platform}:${workspace}:${channel}:${message}`,
    userKey: (workspace, user) => `${platform}:${workspace}:${user}`,
    parse(id) {
      const [p, workspace, channel, message] = id.split(':');
      if (p !== platform || !workspace || !channel) throw new Error(`not a ${label} id: ${id}`);
      return { workspace, channel, ...(message ? { message } : {}) };
    },
    userOf(key) {
      const [p, , user] = key.split(':');
      return p === platform && user ? user : undefined;
    },
  };
}
