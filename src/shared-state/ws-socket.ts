import type { WebSocket } from 'ws';
import type { PageSocket } from '../core/ports/shared.ts';
import { CLOSE } from './limits.ts';

/** A `ws` WebSocket as a PageSocket (binary messages only). */
export function wsSocket(ws: WebSocket): PageSocket {
  return {
    send: (data) => {
      if (ws.readyState === ws.OPEN) ws.send(data);
    },
    close: (code, reason) => ws.close(code, reason),
    onMessage: (listener) =>
      ws.on('message', (data, isBinary) => {
        if (!isBinary) return ws.close(CLOSE.refused, 'text messages are not part of the protocol');
        listener(Array.isArray(data) ? Buffer.concat(data) : new Uint8Array(data as ArrayBuffer | Buffer));
      }),
    onClose: (listener) => ws.on('close', listener),
  };
}
