/**
 * Decodes pgoutput (protocol version 1) into this project's own message union. This is where the
 * untyped bytes of the replication stream are narrowed; nothing past here sees a Buffer.
 *
 * Values stay as PostgreSQL's text output, and an unchanged TOAST value stays distinguishable from
 * NULL (`{ kind: 'unchanged' }`): both matter for a replica that must equal the source exactly.
 * https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
 */
import { CdcError } from '../common/index.js';

/** One column value of a tuple. */
export type TupleValue = { kind: 'null' } | { kind: 'unchanged' } | { kind: 'text'; text: string };
export type Tuple = readonly TupleValue[];

export interface RelationColumn {
  /** Bit 0 set: the column is part of the replica identity. */
  readonly flags: number;
  readonly name: string;
  readonly typeOid: number;
  readonly typeMod: number;
}

export type PgoutputMessage =
  | { tag: 'begin'; finalLsn: bigint; commitTime: bigint; xid: number }
  | { tag: 'commit'; commitLsn: bigint; endLsn: bigint; commitTime: bigint }
  | { tag: 'origin'; lsn: bigint; name: string }
  | { tag: 'relation'; relationOid: number; schema: string; table: string; replicaIdentity: string; columns: readonly RelationColumn[] }
  | { tag: 'type'; typeOid: number; schema: string; name: string }
  | { tag: 'insert'; relationOid: number; newTuple: Tuple }
  | { tag: 'update'; relationOid: number; keyTuple: Tuple | null; oldTuple: Tuple | null; newTuple: Tuple }
  | { tag: 'delete'; relationOid: number; keyTuple: Tuple | null; oldTuple: Tuple | null }
  | { tag: 'truncate'; relationOids: readonly number[]; cascade: boolean; restartIdentity: boolean }
  | { tag: 'message'; transactional: boolean; lsn: bigint; prefix: string; content: Buffer };

class Reader {
  constructor(
    private readonly buf: Buffer,
    private pos: number,
  ) {}
  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }
  i16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw truncated();
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  /** `n` bytes of UTF-8 as a string, decoded straight from the message (no Buffer view per value). */
  text(n: number): string {
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  private need(n: number): void {
    // A negative length (a damaged length field) would move the reader backwards, off the buffer.
    if (n < 0 || this.pos + n > this.buf.length) throw truncated();
  }
}

function truncated(): CdcError {
  return new CdcError('PGOUTPUT_MALFORMED', 'a pgoutput message from PostgreSQL ended early', {
    hint: 'this is a bug in cdc or an unsupported PostgreSQL version; please report it with the PostgreSQL version',
  });
}

// NULL and unchanged carry nothing of their own: one object each serves every tuple.
const NULL_VALUE: TupleValue = Object.freeze({ kind: 'null' });
const UNCHANGED_VALUE: TupleValue = Object.freeze({ kind: 'unchanged' });

function tuple(r: Reader): Tuple {
  const n = r.i16();
  const out: TupleValue[] = new Array<TupleValue>(Math.max(n, 0));
  for (let i = 0; i < n; i++) {
    const kind = r.u8();
    switch (kind) {
      case 0x6e: // n
        out[i] = NULL_VALUE;
        break;
      case 0x75: // u
        out[i] = UNCHANGED_VALUE;
        break;
      case 0x74: // t
        out[i] = { kind: 'text', text: r.text(r.i32()) };
        break;
      default:
        // 'b' (binary) is never requested: cdc asks for text so values keep PostgreSQL's own form.
        throw new CdcError('PGOUTPUT_MALFORMED', `unexpected tuple value kind ${String.fromCharCode(kind)}`);
    }
  }
  return out;
}

function replicaIdentity(code: number): string {
  const names: Record<number, string> = { 0x64: 'default', 0x6e: 'nothing', 0x66: 'full', 0x69: 'index' };
  return names[code] ?? 'unknown';
}

/**
 * Decodes one pgoutput message: the payload of an XLogData message, which starts at `start` of
 * `buf` (read in place, without a Buffer view of it).
 */
export function decodePgoutput(buf: Buffer, start = 0): PgoutputMessage {
  const r = new Reader(buf, start);
  const tag = r.u8();
  switch (tag) {
    case 0x42: // B
      return { tag: 'begin', finalLsn: r.u64(), commitTime: r.i64(), xid: r.u32() };
    case 0x43: // C
      r.u8();
      return { tag: 'commit', commitLsn: r.u64(), endLsn: r.u64(), commitTime: r.i64() };
    case 0x4f: // O
      return { tag: 'origin', lsn: r.u64(), name: r.cstring() };
    case 0x52: {
      // R
      const relationOid = r.u32();
      const schema = r.cstring() || 'pg_catalog';
      const table = r.cstring();
      const ident = replicaIdentity(r.u8());
      const n = r.i16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) columns.push({ flags: r.u8(), name: r.cstring(), typeOid: r.u32(), typeMod: r.i32() });
      return { tag: 'relation', relationOid, schema, table, replicaIdentity: ident, columns };
    }
    case 0x59: // Y
      return { tag: 'type', typeOid: r.u32(), schema: r.cstring(), name: r.cstring() };
    case 0x49: {
      // I
      const relationOid = r.u32();
      r.u8(); // 'N'
      return { tag: 'insert', relationOid, newTuple: tuple(r) };
    }
    case 0x55: {
      // U
      const relationOid = r.u32();
      let keyTuple: Tuple | null = null;
      let oldTuple: Tuple | null = null;
      let sub = r.u8();
      if (sub === 0x4b) keyTuple = tuple(r);
      else if (sub === 0x4f) oldTuple = tuple(r);
      if (sub !== 0x4e) sub = r.u8();
      if (sub !== 0x4e) throw new CdcError('PGOUTPUT_MALFORMED', `update without a new tuple (${String.fromCharCode(sub)})`);
      return { tag: 'update', relationOid, keyTuple, oldTuple, newTuple: tuple(r) };
    }
    case 0x44: {
      // D
      const relationOid = r.u32();
      const sub = r.u8();
      const t = tuple(r);
      return { tag: 'delete', relationOid, keyTuple: sub === 0x4b ? t : null, oldTuple: sub === 0x4f ? t : null };
    }
    case 0x54: {
      // T
      const n = r.i32();
      const options = r.u8();
      const relationOids: number[] = [];
      for (let i = 0; i < n; i++) relationOids.push(r.u32());
      return { tag: 'truncate', relationOids, cascade: (options & 1) !== 0, restartIdentity: (options & 2) !== 0 };
    }
    case 0x4d: {
      // M
      const flags = r.u8();
      const lsn = r.u64();
      const prefix = r.cstring();
      // A copy: the content is read later, after awaits (a barrier in the serial queue), and the
      // chunk it was decoded from is not ours to keep.
      return { tag: 'message', transactional: (flags & 1) !== 0, lsn, prefix, content: Buffer.from(r.bytes(r.i32())) };
    }
    default:
      throw new CdcError('PGOUTPUT_MALFORMED', `unknown pgoutput message type ${String.fromCharCode(tag)}`, {
        hint: 'this PostgreSQL may speak a newer pgoutput protocol than cdc requests (proto_version 1); please report it',
      });
  }
}

const PG_EPOCH_MICROS = 946_684_800_000_000n;
const PG_EPOCH_MICROS_NUMBER = 946_684_800_000_000;
let lastSecond = Number.NaN;
let lastPrefix = '';

/** A PostgreSQL timestamp (µs since 2000-01-01 UTC) as ISO 8601 UTC with microseconds. */
export function pgTimeToIso(micros: bigint): string {
  // Once per transaction: within ±2^53 µs (285 years of 2000) plain numbers are exact and fast.
  const unixMicros = Number(micros) + PG_EPOCH_MICROS_NUMBER;
  if (Number.isSafeInteger(unixMicros) && Number.isSafeInteger(Number(micros))) {
    // % and the division of an exact multiple are exact on safe integers (a float floor is not).
    const us = ((unixMicros % 1_000_000) + 1_000_000) % 1_000_000;
    const second = (unixMicros - us) / 1_000_000;
    // Consecutive transactions mostly commit within one second: its text is made once.
    if (second !== lastSecond) {
      lastSecond = second;
      lastPrefix = new Date(second * 1000).toISOString().slice(0, -4); // up to "ss."
    }
    return `${lastPrefix}${String(us).padStart(6, '0')}Z`;
  }
  const unix = micros + PG_EPOCH_MICROS;
  let ms = unix / 1000n;
  let us = unix % 1000n;
  if (us < 0n) {
    us += 1000n;
    ms -= 1n;
  }
  return new Date(Number(ms)).toISOString().replace('Z', us.toString().padStart(3, '0') + 'Z');
}
