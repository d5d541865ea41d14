import type Keyv from 'keyv';
import type { BuildRecord } from '../core/ports/index.ts';
import type { StoreKeys } from './keys.ts';
import type { StorePrimitives } from './primitives.ts';

/** The bot processes sharing a store: their registry, heartbeats and builds in progress. */
export class KeyvInstanceRegistry {
  constructor(
    private readonly keyv: Keyv,
    private readonly primitives: StorePrimitives,
    private readonly keys: StoreKeys,
  ) {}

  async register(owner: string): Promise<void> {
    const n = await this.primitives.incr(this.keys.instanceSeq());
    await Promise.all([
      this.keyv.set(this.keys.instanceSlot(n), owner),
      this.keyv.set(this.keys.instanceSlotOf(owner), n),
    ]);
  }

  async list(): Promise<{ owner: string; heartbeat: number }[]> {
    const [seq = 0] = await this.primitives.read([this.keys.instanceSeq()]);
    const slots = Array.from({ length: seq }, (_, i) => this.keys.instanceSlot(i + 1));
    const owners = (await this.keyv.getMany<string | null>(slots)).filter((o): o is string => typeof o === 'string');
    const beats = await this.primitives.read(owners.map((o) => this.keys.heartbeat(o)));
    return owners.map((owner, i) => ({ owner, heartbeat: beats[i] ?? 0 }));
  }

  async heartbeat(owner: string, at: number): Promise<void> {
    await this.primitives.raise(this.keys.heartbeat(owner), at);
  }

  async forget(owner: string): Promise<void> {
    const n = await this.keyv.get<number>(this.keys.instanceSlotOf(owner));
    await Promise.all([
      n ? this.keyv.set(this.keys.instanceSlot(n), null) : undefined,
      this.keyv.delete(this.keys.instanceSlotOf(owner)),
      this.keyv.delete(this.keys.builds(owner)),
    ]);
  }

  async setBuilds(owner: string, builds: BuildRecord[]): Promise<void> {
    await this.keyv.set(this.keys.builds(owner), builds);
  }

  async getBuilds(owner: string): Promise<BuildRecord[]> {
    return (await this.keyv.get<BuildRecord[]>(this.keys.builds(owner))) ?? [];
  }
}
