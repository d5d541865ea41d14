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

/**
 * For plain_text (headers, buttons), which Slack never parses: still break `<!…`, `<@…`, `<#…`, `<http…`
 * with a zero-width space, so the text is inert even if pasted elsewhere, and looks the same.
 */
export function inertPlain(text: string): string {
  return text.replace(/<(?=\S)/g, '<\u200b');
}
