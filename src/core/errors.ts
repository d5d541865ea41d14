/** An error whose message is meant for the person in the chat. Anything else is logged with an id. */
export class UserError extends Error {
  override name = 'UserError';
}
