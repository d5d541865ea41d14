/** Query parameters that carry a credential in the URLs people put in settings. */
const SECRET_PARAM = /pass|secret|token|key|auth|credential|sig/i;

/**
 * A URL as logs and messages may show it: the password (and a user name that looks like a
 * token) and every password-like query parameter replaced by `***`. Parsed with `new URL()`,
 * so `user:p@ss@host` and `?password=` are caught; anything that does not parse is shown only
 * by its scheme.
 */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1];
    return scheme ? `${scheme}://(unparseable, hidden)` : '(hidden)';
  }
  if (url.password) url.password = '***';
  for (const name of [...url.searchParams.keys()]) if (SECRET_PARAM.test(name)) url.searchParams.set(name, '***');
  return url.toString().replaceAll('%2A%2A%2A', '***');
}
