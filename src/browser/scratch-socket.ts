import type { WebSocketRoute } from 'playwright-core';
import type { PageSocket } from '../core/ports/shared.ts';

/** The path of an app's shared state (the template's `@vibe/shared` connects there). */
export const SHARED_PATH = /\/__vibe\/shared$/;

/** A page's WebSocket, caught by Playwright's route, as a PageSocket the bot answers itself. */
export function scratchSocket(ws: WebSocketRoute): PageSocket {
  return {
    send: (data) => ws.send(Buffer.from(data)),
    // The page may be gone already (the check is over): nothing to close then.
    close: (code, reason) => void ws.close({ code, reason }).catch(() => undefined),
    onMessage: (listener) => ws.onMessage((m) => listener(typeof m === 'string' ? Buffer.from(m) : new Uint8Array(m))),
    onClose: (listener) => ws.onClose(() => listener()),
  };
}
