import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as sync from 'y-protocols/sync';
import * as Y from 'yjs';
import type { PageSocket } from '../core/ports/shared.ts';
import { CLOSE, WriteBucket, type SharedLimits } from './limits.ts';
import type { DocPeer, LiveDoc } from './live-doc.ts';

/** The message kinds on the socket (y-websocket's numbering for sync; 3 is ours). */
export const MESSAGE = { sync: 0, hello: 3 } as const;

/**
 * One page's WebSocket to an app's shared state, speaking y-protocols' sync: on open the server
 * sends `hello` (its clock, for the items' times, and the data's epoch) and its sync step 1;
 * the page's step 1 gets step 2 back; the page's step 2 and updates are its writes, each
 * checked by the LiveDoc. A refused write or malformed message closes the socket with a code
 * and a reason (limits.ts CLOSE), which the client's hooks show.
 */
export class SharedConnection implements DocPeer {
  private readonly bucket: WriteBucket;
  /** Sync requests (a page sends one per connection): each answer encodes the whole state. */
  private readonly syncs: WriteBucket;
  private closed = false;

  constructor(
    private readonly doc: LiveDoc,
    private readonly socket: PageSocket,
    limits: SharedLimits,
    now: () => number,
  ) {
    this.bucket = new WriteBucket(limits.writesPerMinute, limits.writeBurst, now);
    this.syncs = new WriteBucket(10, 5, now);
    doc.peers.add(this);
    socket.onMessage((data) => this.receive(data));
    socket.onClose(() => {
      this.closed = true;
      doc.peers.delete(this);
    });
    const hello = encoding.createEncoder();
    encoding.writeVarUint(hello, MESSAGE.hello);
    encoding.writeVarString(hello, JSON.stringify({ time: now(), epoch: doc.epoch }));
    this.send(encoding.toUint8Array(hello));
    const step1 = encoding.createEncoder();
    encoding.writeVarUint(step1, MESSAGE.sync);
    sync.writeSyncStep1(step1, doc.doc);
    this.send(encoding.toUint8Array(step1));
  }

  update(update: Uint8Array): void {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, MESSAGE.sync);
    sync.writeUpdate(e, update);
    this.send(encoding.toUint8Array(e));
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.doc.peers.delete(this);
    this.socket.close(code, reason);
  }

  private send(bytes: Uint8Array): void {
    if (!this.closed) this.socket.send(bytes);
  }

  private receive(data: Uint8Array): void {
    if (this.closed) return;
    let reply: Uint8Array | undefined;
    let refusal: { code: number; reason: string } | undefined;
    try {
      const d = decoding.createDecoder(data);
      if (decoding.readVarUint(d) !== MESSAGE.sync) throw new Error('not a sync message');
      const kind = decoding.readVarUint(d);
      if (kind === sync.messageYjsSyncStep1) {
        if (!this.syncs.take(1))
          return this.close(CLOSE.rateLimited, 'too many sync requests from this page; wait a moment');
        const sv = decoding.readVarUint8Array(d);
        const e = encoding.createEncoder();
        encoding.writeVarUint(e, MESSAGE.sync);
        encoding.writeVarUint(e, sync.messageYjsSyncStep2);
        encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(this.doc.doc, sv));
        reply = encoding.toUint8Array(e);
      } else if (kind === sync.messageYjsSyncStep2 || kind === sync.messageYjsUpdate) {
        refusal = this.doc.accept(decoding.readVarUint8Array(d), this, (n) => this.bucket.take(n));
      } else throw new Error('unknown sync message');
    } catch {
      refusal = { code: CLOSE.refused, reason: 'a malformed message was refused' };
    }
    if (refusal) return this.close(refusal.code, refusal.reason.slice(0, 120));
    if (reply) this.send(reply);
  }
}
