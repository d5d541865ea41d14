import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { REPORT_LIMITS, reporterScript } from '../../sandbox-template/vibe-plugins/error-reporter.ts';

/** The reporter script in a bare window of its own: what it would send, and how. */
function page(opts: { beacon?: boolean } = {}) {
  const listeners: Record<string, ((e: unknown) => void)[]> = {};
  const sent: { via: 'beacon' | 'fetch'; url: string; body: unknown; init?: Record<string, unknown> }[] = [];
  class ErrorEvent {
    constructor(
      readonly message: string,
      readonly error: unknown,
    ) {}
  }
  const context = vm.createContext({
    ErrorEvent,
    addEventListener: (type: string, fn: (e: unknown) => void) => (listeners[type] ??= []).push(fn),
    navigator: {
      sendBeacon:
        opts.beacon === false
          ? undefined
          : (url: string, body: string) => (sent.push({ via: 'beacon', url, body: JSON.parse(body) }), true),
    },
    fetch: (url: string, init: Record<string, unknown>) => {
      sent.push({ via: 'fetch', url, body: JSON.parse(init.body as string), init });
      return Promise.resolve();
    },
  });
  vm.runInContext(reporterScript('/apps/abc123/__vibe/errors'), context);
  const fire = (type: string, e: unknown) => listeners[type]?.forEach((fn) => fn(e));
  return {
    sent,
    throwError: (err: unknown, message = 'Uncaught') => fire('error', new ErrorEvent(message, err)),
    reject: (reason: unknown) => fire('unhandledrejection', { reason }),
    /** A failed <img> or <script> load: an Event, not an ErrorEvent. */
    resourceError: () => fire('error', { type: 'error' }),
  };
}

const err = (message: string, stack?: string) =>
  Object.assign(new Error(message), {
    stack: stack ?? `Error: ${message}\n    at f (http://h/apps/abc123/dev/src/App.tsx?t=1:3:5)`,
  });

describe('the error reporter injected into every view', () => {
  it('sends only {message, stack} as a text/plain beacon, and each error once per page', () => {
    const p = page();
    p.throwError(err('boom'));
    p.throwError(err('boom'));
    p.reject(err('boom')); // same message, same top frame
    p.resourceError();
    expect(p.sent).toEqual([
      {
        via: 'beacon',
        url: '/apps/abc123/__vibe/errors',
        body: { message: 'boom', stack: 'Error: boom\n    at f (http://h/apps/abc123/dev/src/App.tsx:3:5)' },
      },
    ]);
    p.throwError(err('boom', 'Error: boom\n    at g (http://h/apps/abc123/dev/src/Other.tsx:9:1)')); // another place
    p.reject('a plain string');
    p.throwError(null, 'Script error.');
    expect(p.sent.map((s) => s.body)).toEqual([
      expect.anything(),
      { message: 'boom', stack: 'Error: boom\n    at g (http://h/apps/abc123/dev/src/Other.tsx:9:1)' },
      { message: 'a plain string' },
      { message: 'Script error.' },
    ]);
  });

  it('sends at most 5 reports a page load, each truncated, with no URL queries or fragments', () => {
    const p = page();
    p.throwError(
      err(
        `Failed to load https://api.example/x?token=SECRET#part ${'m'.repeat(1000)}`,
        `Error\n    at f (http://h/apps/abc123/?q=private#frag:1:2)\n${'    at g (http://h/x.js:1:1)\n'.repeat(200)}`,
      ),
    );
    const [first] = p.sent;
    const body = first!.body as { message: string; stack: string };
    expect(body.message.length).toBe(REPORT_LIMITS.message);
    expect(body.stack.length).toBe(REPORT_LIMITS.stack);
    expect(JSON.stringify(body)).not.toMatch(/SECRET|private|frag|part/);
    expect(body.stack).toContain('(http://h/apps/abc123/:1:2)');
    for (let i = 0; i < 20; i++) p.throwError(err(`error ${i}`));
    expect(p.sent).toHaveLength(REPORT_LIMITS.reports);
  });

  it('falls back to fetch with keepalive, no credentials and no preflight', () => {
    const p = page({ beacon: false });
    p.throwError(err('boom'));
    expect(p.sent[0]).toMatchObject({
      via: 'fetch',
      init: {
        method: 'POST',
        keepalive: true,
        mode: 'no-cors',
        credentials: 'omit',
        headers: { 'Content-Type': 'text/plain' },
      },
    });
  });

  it('never throws itself, whatever the page throws', () => {
    const p = page();
    const hostile = {
      get message(): string {
        throw new Error('gotcha');
      },
    };
    expect(() => p.throwError(hostile)).not.toThrow();
    expect(() => p.reject(Object.create(null))).not.toThrow();
  });

  it('cannot be closed from its URL', () => {
    expect(reporterScript('https://bot.example/apps/x/</script><script>alert(1)//')).not.toContain('</script>');
  });
});
