/** An error whose message is meant for the person in the chat. Anything else is logged with an id. */
export class UserError extends Error {
  override name = 'UserError';
}

/** `addVersion` with `expectLatest`: another version landed first (another bot process changed the app). */
export class StaleVersionError extends Error {
  override name = 'StaleVersionError';
  constructor(
    readonly appId: string,
    readonly expected: number,
    readonly latest: number,
  ) {
    super(`app ${appId} is at version ${latest}, not ${expected}`);
  }
}

/** Publishing the app on first view failed a moment ago: not tried again for `retryAfterMs`. */
export class PublishBackoffError extends Error {
  override name = 'PublishBackoffError';
  constructor(
    readonly appId: string,
    readonly retryAfterMs: number,
  ) {
    super(`publishing app ${appId} failed recently; not tried again for ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/** The app's production build failed (its code's fault, e.g. a file the build guard refused): the message says why. */
export class BuildFailedError extends Error {
  override name = 'BuildFailedError';
}
