import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { UserError } from '../core/errors.ts';

const TRY_LATER = 'Nothing was changed; try again in a minute.';

/**
 * Turns an Anthropic SDK error (after the SDK's own retries are spent) into a `UserError` the chat
 * can show. Returns anything it does not recognise (and aborts) unchanged, so the core logs it with an id.
 */
export function toUserError(err: unknown, model: string): unknown {
  if (err instanceof APIUserAbortError) return err;
  // Order matters: a timeout is a connection error, and both are APIErrors without a status.
  if (err instanceof APIConnectionTimeoutError)
    return new UserError(`Claude did not answer in time. ${TRY_LATER}`, { cause: err });
  if (err instanceof APIConnectionError)
    return new UserError(`Could not reach Claude (connection error). ${TRY_LATER}`, { cause: err });
  if (!(err instanceof APIError)) return err;

  const status = err.status;
  const reason = shortReason(err);
  // Errors sent inside an SSE stream have no HTTP status, only a type.
  if (status === 529 || err.type === 'overloaded_error')
    return new UserError(`Claude is overloaded right now (529). ${TRY_LATER}`, { cause: err });
  if (status === 429 || err.type === 'rate_limit_error')
    return new UserError(`Claude's rate limit was reached (429). ${TRY_LATER}`, { cause: err });
  if (status === 401)
    return new UserError('The Anthropic API key is invalid (401). Check ANTHROPIC_API_KEY.', { cause: err });
  if (status === 403)
    return new UserError(`The Anthropic API key may not use ${model} (403)${reason ? `: ${reason}` : ''}.`, {
      cause: err,
    });
  if (status === 404)
    return new UserError(`Claude model "${model}" was not found (404). Check VIBE_MODEL.`, { cause: err });
  if (status === 413) return new UserError('The app is too large to send to Claude (413).', { cause: err });
  if (status === 400)
    return new UserError(`Claude refused the request (400)${reason ? `: ${reason}` : ''}.`, { cause: err });
  if ((status !== undefined && status >= 500) || err.type === 'api_error') {
    return new UserError(`Claude had a server error (${status ?? 'api_error'}). ${TRY_LATER}`, { cause: err });
  }
  return err;
}

function shortReason(err: APIError): string {
  const text = (err.apiMessage ?? '').replace(/\s+/g, ' ').trim().replace(/\.$/, '');
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
