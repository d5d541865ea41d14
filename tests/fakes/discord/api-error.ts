/**
 * An error the fake answers with, in Discord's JSON error shape `{ message, code, errors? }`.
 * @discordjs/rest turns these into `DiscordAPIError` with `.code` and `.status`, as with real Discord.
 */
export class DiscordApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    /** Per-field errors of a 50035 "Invalid Form Body". */
    readonly errors?: Record<string, unknown>,
  ) {
    super(message);
  }

  toJSON(): Record<string, unknown> {
    return { message: this.message, code: this.code, ...(this.errors ? { errors: this.errors } : {}) };
  }
}

export const unknownChannel = (): DiscordApiError => new DiscordApiError(404, 10003, 'Unknown Channel');
export const unknownMessage = (): DiscordApiError => new DiscordApiError(404, 10008, 'Unknown Message');
export const unknownWebhook = (): DiscordApiError => new DiscordApiError(404, 10015, 'Unknown Webhook');
export const unknownInteraction = (): DiscordApiError => new DiscordApiError(404, 10062, 'Unknown interaction');
export const alreadyAcknowledged = (): DiscordApiError =>
  new DiscordApiError(400, 40060, 'Interaction has already been acknowledged.');
export const invalidWebhookToken = (): DiscordApiError => new DiscordApiError(401, 50027, 'Invalid Webhook Token');
export const unauthorized = (): DiscordApiError => new DiscordApiError(401, 0, '401: Unauthorized');
export const notFound = (): DiscordApiError => new DiscordApiError(404, 0, '404: Not Found');
export const emptyMessage = (): DiscordApiError => new DiscordApiError(400, 50006, 'Cannot send an empty message');
export const threadAlreadyCreated = (): DiscordApiError =>
  new DiscordApiError(400, 160004, 'A thread has already been created for this message');

/** One field problem, at a path such as `['embeds', 0, 'title']`. */
export interface FieldError {
  path: (string | number)[];
  code: string;
  message: string;
}

/** A 50035 "Invalid Form Body" with Discord's nested `{ field: { _errors: [...] } }` tree. */
export function invalidFormBody(fieldErrors: FieldError[]): DiscordApiError {
  const errors: Record<string, any> = {};
  for (const e of fieldErrors) {
    let node = errors;
    for (const key of e.path) node = node[String(key)] ??= {};
    (node._errors ??= []).push({ code: e.code, message: e.message });
  }
  return new DiscordApiError(400, 50035, 'Invalid Form Body', errors);
}
