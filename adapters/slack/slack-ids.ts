// Platform-qualified ids for Slack: channels "slack:T:C", messages and threads "slack:T:C:ts",
// people "slack:T:U". The core treats them as opaque strings.

export const channelKey = (team: string, channel: string) => `slack:${team}:${channel}`;
export const messageKey = (team: string, channel: string, ts: string) => `slack:${team}:${channel}:${ts}`;
export const userKey = (team: string, user: string) => `slack:${team}:${user}`;

/** "slack:T:C:ts" -> its parts; throws on anything else (a bug, not user input). */
export function parseMessageKey(id: string): { team: string; channel: string; ts: string } {
  const [platform, team, channel, ts] = id.split(':');
  if (platform !== 'slack' || !team || !channel || !ts) throw new Error(`not a Slack message id: ${id}`);
  return { team, channel, ts };
}

/** The Slack user id inside "slack:T:U", or undefined for ids of other platforms. */
export function slackUserId(key: string): string | undefined {
  const [platform, , user] = key.split(':');
  return platform === 'slack' && user ? user : undefined;
}
