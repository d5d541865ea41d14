import KeyvPostgres from '@keyv/postgres';

/** The part of a `pg` Pool this store uses (pg ships no types; `@types/pg` is not installed). */
export interface PgPool {
  query(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** A connection of its own (LISTEN, see shared-bus.ts), until `release`. */
  connect(): Promise<PgPoolClient>;
}

/** A connection checked out of the pool. */
export interface PgPoolClient {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', listener: (msg: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error' | 'end', listener: (err?: Error) => void): unknown;
  release(destroy?: boolean): void;
}

interface PgModule {
  default: {
    Pool: new (config: { connectionString: string; max?: number; connectionTimeoutMillis?: number }) => PgPool;
  };
}

/**
 * Opens a pg Pool. @keyv/postgres keeps one pool per process in a module variable and ends it on any
 * instance's disconnect, so two stores (or a store and a test) would close each other's connections.
 * `pg` is @keyv/postgres's own dependency; the specifier is a variable so TypeScript does not look for its types.
 */
export async function openPgPool(uri: string, onError: (error: Error) => void): Promise<PgPool> {
  const specifier: string = 'pg';
  const pg = (await import(specifier)) as PgModule;
  const pool = new pg.default.Pool({ connectionString: uri, max: 10, connectionTimeoutMillis: 5000 });
  pool.on('error', onError); // an idle client losing its connection must not crash the process
  return pool;
}

/** @keyv/postgres on a pool of our own (see openPgPool). */
export class PooledKeyvPostgres extends KeyvPostgres {
  constructor(uri: string, pool: PgPool) {
    // The base constructor calls connect() before this constructor's body runs, so the pool travels in opts.
    super({ uri, pgPool: pool });
  }

  private get pool(): PgPool {
    return (this.opts as { pgPool: PgPool }).pgPool;
  }

  override async connect(): Promise<(sql: string, values?: unknown[]) => Promise<Record<string, unknown>[]>> {
    const pool = this.pool;
    return async (sql, values) => (await pool.query(sql, values)).rows;
  }

  override async disconnect(): Promise<void> {
    await this.pool.end();
  }
}
