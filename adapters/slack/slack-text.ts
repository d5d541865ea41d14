// Text the bot sends to Slack: escaped so nothing a user or the model wrote can ping anyone
// (<!channel>, <!here>, <!everyone>, <@U…>, <#C…>) or inject links, and cut to Slack's limits.

/** Slack's own mrkdwn escaping: after it, `<…>` control sequences are inert text. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Shortens to `max` characters (Slack rejects longer fields rather than cutting them). */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
