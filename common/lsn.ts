/**
 * PostgreSQL WAL positions. They travel as `bigint` everywhere inside `cdc` (never floats: an LSN
 * is 64 bits) and as the familiar `X/Y` text only at the edges (SQL, logs, record values).
 */

/** An LSN as PostgreSQL prints it (`16/B374D848`) to a bigint. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new RangeError(`not an LSN: ${JSON.stringify(text)}`);
  return (BigInt('0x' + m[1]) << 32n) | BigInt('0x' + m[2]);
}

/** A bigint LSN in PostgreSQL's `X/Y` notation. */
export function formatLsn(lsn: bigint): string {
  // Twice per source transaction: each half is a 32-bit number, whose hex is cheaper than a bigint's.
  return `${Number(lsn >> 32n).toString(16).toUpperCase()}/${Number(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
