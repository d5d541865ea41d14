/**
 * At most `limit` builds (model turns with their checks and repairs) at once in this process;
 * the rest wait in a fair queue. Fair means round-robin across people: the next free slot goes
 * to the waiting person served least recently (someone never served goes first), so one
 * person's 50 requests cannot starve another's one, who waits for one slot at most.
 */
export class BuildSlots {
  private running = 0;
  /** Waiting builds per person, oldest first; a person is present only while they wait. */
  private readonly waiting = new Map<string, Waiter[]>();
  /** When each person last got a slot (a counter, not a clock: ties cannot happen). */
  private readonly served = new Map<string, number>();
  /** Slots each person holds now. */
  private readonly holding = new Map<string, number>();
  private turn = 0;

  constructor(private readonly limit: number) {}

  /** Builds running now. */
  get busy(): number {
    return this.running;
  }

  /** Whether a build asked for now would start at once (a slot is free and nobody waits). */
  get startsNow(): boolean {
    return this.running < this.limit && this.waiting.size === 0;
  }

  /** Builds waiting for a slot. */
  get queued(): number {
    return [...this.waiting.values()].reduce((n, ws) => n + ws.length, 0);
  }

  /**
   * Resolves with the release function once a slot is this build's. While it waits, `onPlace`
   * hears its place in line (1 = next) each time that changes.
   */
  acquire(person: string, onPlace?: (place: number) => void): Promise<() => void> {
    if (this.running < this.limit && this.waiting.size === 0) return Promise.resolve(this.grant(person));
    return new Promise((resolve) => {
      const mine = this.waiting.get(person) ?? [];
      mine.push({ resolve, onPlace, place: 0 });
      this.waiting.set(person, mine);
      this.announce();
    });
  }

  private grant(person: string): () => void {
    this.running++;
    this.served.set(person, ++this.turn);
    this.holding.set(person, (this.holding.get(person) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      const left = this.holding.get(person)! - 1;
      if (left > 0) this.holding.set(person, left);
      else {
        this.holding.delete(person);
        // Someone with nothing running or waiting starts afresh (and the map stays small).
        if (!this.waiting.has(person)) this.served.delete(person);
      }
      this.next();
    };
  }

  private next(): void {
    while (this.running < this.limit) {
      const person = this.order(1)[0];
      if (person === undefined) break;
      const mine = this.waiting.get(person)!;
      const w = mine.shift()!;
      if (mine.length === 0) this.waiting.delete(person);
      w.resolve(this.grant(person));
    }
    this.announce();
  }

  /**
   * The people to serve next, in order, for the next `n` slots (a person once per build they
   * have waiting): each pick goes to the person served least recently, who then counts as served.
   */
  private order(n: number): string[] {
    const served = new Map(this.served);
    const left = new Map([...this.waiting].map(([p, ws]) => [p, ws.length]));
    const out: string[] = [];
    let turn = this.turn;
    while (out.length < n && left.size > 0) {
      let pick: string | undefined;
      for (const p of left.keys()) if (pick === undefined || (served.get(p) ?? 0) < (served.get(pick) ?? 0)) pick = p;
      out.push(pick!);
      served.set(pick!, ++turn);
      const k = left.get(pick!)! - 1;
      if (k === 0) left.delete(pick!);
      else left.set(pick!, k);
    }
    return out;
  }

  /** Tells each waiting build its place, when it changed. */
  private announce(): void {
    const total = this.queued;
    const seen = new Map<string, number>();
    this.order(total).forEach((person, i) => {
      const k = seen.get(person) ?? 0;
      seen.set(person, k + 1);
      const w = this.waiting.get(person)![k]!;
      if (w.place !== i + 1) {
        w.place = i + 1;
        w.onPlace?.(i + 1);
      }
    });
  }
}

interface Waiter {
  resolve(release: () => void): void;
  onPlace?: (place: number) => void;
  place: number;
}
