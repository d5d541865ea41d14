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
}

export const DEFAULT_TABLES: SqlTables = { keyv: 'keyv', counters: 'vibe_counters', claims: 'vibe_claims' };

/**
 * Primitives as single upsert statements (`INSERT … ON CONFLICT … DO UPDATE … RETURNING`): the
 * database applies each atomically, so concurrent callers in any process never share a number.
 * Runs on the Keyv adapter's own connection.
 */
export class SqlPrimitives implements StorePrimitives {
  private claimsSincePurge = 0;

  constructor(
    private readonly run: SqlRun,
    private readonly d: SqlDialect,
    private readonly closeConnection: () => Promise<void>,
    private readonly tables: SqlTables = DEFAULT_TABLES,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates the counter and claim tables; call once before use. */
  async init(): Promise<void> {
    const { counters, claims } = this.tables;
    for (const sql of [
      `CREATE TABLE IF NOT EXISTS ${counters} (key VARCHAR(255) PRIMARY KEY, n BIGINT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${claims} (key VARCHAR(255) PRIMARY KEY, expires BIGINT NOT NULL)`,
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
    if (++this.claimsSincePurge >= 200) {
      this.claimsSincePurge = 0;
      await this.run(`DELETE FROM ${t} WHERE expires <= ${this.d.p(1)}`, [now]);
    }
    return rows.length === 1;
  }

  async deletePrefix(prefix: string): Promise<void> {
    for (const table of [this.tables.keyv, this.tables.counters, this.tables.claims]) {
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
}
