// Slack's ids (see ../platform-ids.ts): channels "slack:T:C", messages and threads "slack:T:C:ts", people "slack:T:U".
import { platformIds } from '../platform-ids.ts';

const ids = platformIds('slack', 'Slack');
export const { channelKey, messageKey, userKey } = ids;
export const slackUserId = ids.userOf;

/** "slack:T:C:ts" -> its parts; throws on anything else (a bug, not user input). */
export function parseMessageKey(id: string): { team: string; channel: string; ts: string } {
  const { workspace, channel, message } = ids.parse(id);
  if (!message) throw new Error(`not a Slack message id: ${id}`);
  return { team: workspace, channel, ts: message };
}
