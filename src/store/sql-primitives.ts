import type { StorePrimitives } from './primitives.ts';

/** Runs one statement with positional parameters and returns its rows. */
export type SqlRun = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

/** The few spots where SQLite and PostgreSQL differ. */
export interface SqlDialect {
  name: 'sqlite' | 'postgres';
  /** Placeholder for the i-th (1-based) parameter. */
  p(i: number): string;
  /** Larger of two expressions. */
  max(a: string, b: string): string;
  /** `key` is one of the strings in the array-valued parameter i. */
  keyIn(i: number): string;
  /** Encodes that array parameter. */
  list(keys: string[]): unknown;
}

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  p: () => '?',
  max: (a, b) => `MAX(${a}, ${b})`,
  keyIn: () => 'key IN (SELECT value FROM json_each(?))',
  list: (keys) => JSON.stringify(keys),
};

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  p: (i) => `$${i}`,
  max: (a, b) => `GREATEST(${a}, ${b})`,
  keyIn: (i) => `key = ANY($${i})`,
  list: (keys) => keys,
};

export interface SqlTables {
  /** The Keyv adapter's table (cleared by prefix in `deletePrefix`). */
  keyv: string;
  counters: string;
  claims: string;
  /** Windowed counters: a total and the epoch ms at which it expires. */
  windows: string;
  /** Leases: the holder's token and the epoch ms at which the lease runs out. */
  leases: string;
}

export const DEFAULT_TABLES: SqlTables = {
  keyv: 'keyv',
  counters: 'vibe_counters',
  claims: 'vibe_claims',
  windows: 'vibe_windows',
  leases: 'vibe_leases',
};

/** Every this many writes to an expiring table, its expired rows are deleted (no timer needed). */
const PURGE_EVERY = 200;

/**
 * Primitives as single upsert statements (`INSERT … ON CONFLICT … DO UPDATE … RETURNING`): the
 * database applies each atomically, so concurrent callers in any process never share a number.
 * Runs on the Keyv adapter's own connection.
 */
export class SqlPrimitives implements StorePrimitives {
  private readonly writesSincePurge = { claims: 0, windows: 0 };

  constructor(
    private readonly run: SqlRun,
    private readonly d: SqlDialect,
    private readonly closeConnection: () => Promise<void>,
    private readonly tables: SqlTables = DEFAULT_TABLES,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates the counter, claim and window tables; call once before use. */
  async init(): Promise<void> {
    const { counters, claims, windows, leases } = this.tables;
    for (const sql of [
      `CREATE TABLE IF NOT EXISTS ${leases} (key VARCHAR(255) PRIMARY KEY, token VARCHAR(255) NOT NULL, expires BIGINT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${counters} (key VARCHAR(255) PRIMARY KEY, n BIGINT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${claims} (key VARCHAR(255) PRIMARY KEY, expires BIGINT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${windows} (key VARCHAR(255) PRIMARY KEY, n BIGINT NOT NULL, expires BIGINT NOT NULL)`,
    ]) {
      try {
        await this.run(sql, []);
      } catch (error) {
        // Two processes creating the same Postgres table at once: the loser sees a unique violation.
        const code = (error as { code?: unknown }).code;
        if (code !== '23505' && code !== '42P07') throw error;
      }
    }
  }

  async incr(key: string): Promise<number> {
    const t = this.tables.counters;
    const rows = await this.run(
      `INSERT INTO ${t} (key, n) VALUES (${this.d.p(1)}, 1) ON CONFLICT (key) DO UPDATE SET n = ${t}.n + 1 RETURNING n`,
      [key],
    );
    return Number(rows[0]?.n);
  }

  async raise(key: string, n: number): Promise<number> {
    const t = this.tables.counters;
    const rows = await this.run(
      `INSERT INTO ${t} (key, n) VALUES (${this.d.p(1)}, ${this.d.p(2)}) ON CONFLICT (key) DO UPDATE SET n = ${this.d.max(`${t}.n`, 'excluded.n')} RETURNING n`,
      [key, Math.trunc(n)],
    );
    return Number(rows[0]?.n);
  }

  async casIncr(key: string, expected: number): Promise<number | undefined> {
    const t = this.tables.counters;
    const p = (i: number) => this.d.p(i);
    // From 0 the row may not exist yet: insert it, or step a row that is still at 0.
    const rows =
      expected === 0
        ? await this.run(
            `INSERT INTO ${t} (key, n) VALUES (${p(1)}, 1) ON CONFLICT (key) DO UPDATE SET n = ${t}.n + 1 WHERE ${t}.n = 0 RETURNING n`,
            [key],
          )
        : await this.run(`UPDATE ${t} SET n = n + 1 WHERE key = ${p(1)} AND n = ${p(2)} RETURNING n`, [
            key,
            Math.trunc(expected),
          ]);
    return rows.length === 1 ? Number(rows[0]!.n) : undefined;
  }

  async lease(key: string, token: string, ttlMs: number): Promise<boolean> {
    const t = this.tables.leases;
    const now = this.now();
    const rows = await this.run(
      `INSERT INTO ${t} (key, token, expires) VALUES (${this.d.p(1)}, ${this.d.p(2)}, ${this.d.p(3)}) ON CONFLICT (key) DO UPDATE SET token = excluded.token, expires = excluded.expires WHERE ${t}.expires <= ${this.d.p(4)} RETURNING key`,
      [key, token, now + Math.max(1, Math.ceil(ttlMs)), now],
    );
    return rows.length === 1;
  }

  async renewLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const rows = await this.run(
      `UPDATE ${this.tables.leases} SET expires = ${this.d.p(1)} WHERE key = ${this.d.p(2)} AND token = ${this.d.p(3)} AND expires > ${this.d.p(4)} RETURNING key`,
      [now + Math.max(1, Math.ceil(ttlMs)), key, token, now],
    );
    return rows.length === 1;
  }

  async releaseLease(key: string, token: string): Promise<void> {
    await this.run(`DELETE FROM ${this.tables.leases} WHERE key = ${this.d.p(1)} AND token = ${this.d.p(2)}`, [
      key,
      token,
    ]);
  }

  async read(keys: string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const rows = await this.run(`SELECT key, n FROM ${this.tables.counters} WHERE ${this.d.keyIn(1)}`, [
      this.d.list(keys),
    ]);
    const byKey = new Map(rows.map((r) => [String(r.key), Number(r.n)]));
    return keys.map((k) => byKey.get(k) ?? 0);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const t = this.tables.claims;
    const now = this.now();
    // Inserts a new claim, or takes over an expired one; a live claim matches no row, so RETURNING is empty.
    const rows = await this.run(
      `INSERT INTO ${t} (key, expires) VALUES (${this.d.p(1)}, ${this.d.p(2)}) ON CONFLICT (key) DO UPDATE SET expires = excluded.expires WHERE ${t}.expires <= ${this.d.p(3)} RETURNING key`,
      [key, now + Math.max(1, Math.ceil(ttlMs)), now],
    );
    await this.purgeSometimes('claims', now);
    return rows.length === 1;
  }

  async addWindowed(key: string, n: number, ttlMs: number): Promise<number> {
    const t = this.tables.windows;
    const now = this.now();
    // An expired row restarts from this add (total and expiry); a live one keeps its expiry. Both SET
    // expressions read the row as it was, so the two expiry tests agree. `now` is passed twice because
    // SQLite's `?` cannot be referred to again.
    const expired = (i: number) => `${t}.expires <= ${this.d.p(i)}`;
    const rows = await this.run(
      `INSERT INTO ${t} (key, n, expires) VALUES (${this.d.p(1)}, ${this.d.p(2)}, ${this.d.p(3)}) ON CONFLICT (key) DO UPDATE SET n = CASE WHEN ${expired(4)} THEN excluded.n ELSE ${t}.n + excluded.n END, expires = CASE WHEN ${expired(5)} THEN excluded.expires ELSE ${t}.expires END RETURNING n`,
      [key, Math.trunc(n), now + Math.max(1, Math.ceil(ttlMs)), now, now],
    );
    await this.purgeSometimes('windows', now);
    return Number(rows[0]?.n);
  }

  async readWindowed(keys: string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const rows = await this.run(
      `SELECT key, n FROM ${this.tables.windows} WHERE ${this.d.keyIn(1)} AND expires > ${this.d.p(2)}`,
      [this.d.list(keys), this.now()],
    );
    const byKey = new Map(rows.map((r) => [String(r.key), Number(r.n)]));
    return keys.map((k) => byKey.get(k) ?? 0);
  }

  async deletePrefix(prefix: string): Promise<void> {
    const { keyv, counters, claims, windows, leases } = this.tables;
    for (const table of [keyv, counters, claims, windows, leases]) {
      // substr instead of LIKE: no wildcard escaping to get wrong.
      await this.run(`DELETE FROM ${table} WHERE substr(key, 1, ${this.d.p(1)}) = ${this.d.p(2)}`, [
        prefix.length,
        prefix,
      ]);
    }
  }

  async close(): Promise<void> {
    await this.closeConnection();
  }

  /** A key that is never written again would keep its expired row forever; deleting them now and then bounds the table. */
  private async purgeSometimes(table: 'claims' | 'windows', now: number): Promise<void> {
    if (++this.writesSincePurge[table] < PURGE_EVERY) return;
    this.writesSincePurge[table] = 0;
    await this.run(`DELETE FROM ${this.tables[table]} WHERE expires <= ${this.d.p(1)}`, [now]);
  }
}
