/** Discord's epoch (2015-01-01T00:00:00Z): snowflakes count milliseconds from here. */
const DISCORD_EPOCH = 1_420_070_400_000n;

/**
 * Issues Discord snowflakes: `(ms since epoch << 22) | worker << 17 | process << 12 | increment`,
 * as decimal strings. Strictly increasing per generator, so ids sort like Discord's.
 */
export class SnowflakeGenerator {
  private last = 0n;

  next(at = Date.now()): string {
    let id = ((BigInt(at) - DISCORD_EPOCH) << 22n) | (1n << 17n) | (1n << 12n);
    // Two ids in one millisecond (or a clock step back) still come out in order.
    if (id <= this.last) id = this.last + 1n;
    this.last = id;
    return id.toString();
  }

  /** The creation time encoded in a snowflake, in ms since the Unix epoch. */
  static timestampOf(id: string): number {
    return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
  }
}
