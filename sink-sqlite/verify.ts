/**
 * `cdc verify`: is the replica equal to the source? Table by table, the source is read in key
 * order in chunks; each chunk's rows are mapped with the replica's own value mapping (values.ts)
 * and hashed, and the replica rows of the same key range are hashed alongside. Equal hashes, equal
 * chunk. Memory holds one chunk, never a table.
 *
 * The replica trails the source. A chunk that differs is re-read on both sides every second for up
 * to `settleMs`: a running sink that is a moment behind catches up and the difference goes away;
 * what still differs after that is reported, with its key range. (The log has no marker of "the
 * source position the replica reflects" per key range, so verify cannot stop the source at that
 * position; the window is the honest substitute, see docs/operations.md.)
 */
import { createHash, type Hash } from 'node:crypto';
import { CdcError, ConfigError, type Logger } from '../common/index.js';
import { decodeSchema, type ColumnDef, type SchemaRecord } from '../compaction/index.js';
import { replicaTableName, sqlIdent, type ReplicaDb } from './replica.js';
import { columnValue, sqliteType, type SqliteValue } from './values.js';

/** A key column, and whether the replica stores it as TEXT (so it is ordered as text). */
export interface VerifyKeyOrder {
  readonly column: string;
  readonly asText: boolean;
  /** A timestamptz: the replica's text has `Z` for `+00`, which orders differently (`.` < `Z`). */
  readonly utcZ?: boolean;
}

type TextRow = (string | null)[];

/** The source side of a verification (source-postgres/table-reader.ts implements it). */
export interface VerifySource {
  /** Every row of the table (`columns`, as text) in replica key order, a chunk at a time. */
  chunks(t: SchemaRecord, columns: readonly string[], key: readonly VerifyKeyOrder[], chunkRows: number): AsyncIterable<TextRow[]>;
  /** The rows with key in (after, upTo]; an absent bound is open. Key values as text. */
  range(t: SchemaRecord, columns: readonly string[], key: readonly VerifyKeyOrder[], after: TextRow | undefined, upTo: TextRow | undefined): Promise<TextRow[]>;
}

/** A key range of a table where source and replica differ. */
export interface VerifyDifference {
  table: string;
  /** Last key before the range (exclusive), as column → text; null: from the first row. */
  after: Record<string, string | null> | null;
  /** Last key of the range (inclusive); null: to the last row. */
  upTo: Record<string, string | null> | null;
  sourceRows: number;
  replicaRows: number;
}

/** One table's outcome: rows and chunks compared, and the ranges that still differ. */
export interface VerifyTableResult {
  table: string;
  rows: number;
  chunks: number;
  differences: VerifyDifference[];
}

/** What {@link verifyReplica} compares, and how patiently. */
export interface VerifyOptions {
  /** `schema.table` names to check (all replica tables when absent). */
  tables?: readonly { schema: string; table: string }[] | undefined;
  chunkRows?: number;
  settleMs?: number;
  logger: Logger;
}

function feed(hash: Hash, v: SqliteValue): void {
  if (v === null) hash.update('n;');
  else if (typeof v === 'bigint') hash.update(`i${v};`);
  else if (typeof v === 'number') hash.update(`r${Object.is(v, -0) ? '0' : String(v)};`);
  else if (typeof v === 'string') hash.update(`t${Buffer.byteLength(v)}:`).update(v);
  else hash.update(`b${v.length}:`).update(v);
}

/** The tables of the replica with their current definitions. */
function replicaTables(db: ReplicaDb): SchemaRecord[] {
  const rows = db.prepare('SELECT s.definition FROM _cdc_tables t JOIN _cdc_schemas s ON s.id = t.schema_id ORDER BY t.topic').all() as { definition: string }[];
  return rows.map((r) => decodeSchema(Buffer.from(r.definition)));
}

class TableCheck {
  readonly name: string;
  readonly columns: readonly ColumnDef[];
  readonly key: VerifyKeyOrder[];
  private readonly keyIndex: number[];
  private readonly select: string;
  private readonly keyList: string;

  constructor(private readonly db: ReplicaDb, readonly schema: SchemaRecord) {
    this.name = replicaTableName(schema.schema, schema.table);
    this.columns = schema.columns;
    this.keyIndex = schema.key.map((k) => schema.columns.findIndex((c) => c.name === k));
    this.key = this.keyIndex.map((i) => {
      const c = schema.columns[i] as ColumnDef;
      return { column: c.name, asText: sqliteType(c) === 'TEXT', utcZ: c.elem === null && c.base === 'timestamptz' };
    });
    this.select = `SELECT ${schema.columns.map((c) => sqlIdent(c.name)).join(', ')} FROM ${sqlIdent(this.name)}`;
    this.keyList = `(${schema.key.map(sqlIdent).join(', ')})`;
  }

  keyText(row: TextRow): TextRow {
    return this.keyIndex.map((i) => row[i] ?? null);
  }

  private keyValues(text: TextRow): SqliteValue[] {
    return this.keyIndex.map((i, n) => columnValue(this.columns[i] as ColumnDef, text[n] ?? null));
  }

  /** Hash and count of source rows (text, mapped to replica values). */
  sourceDigest(rows: readonly TextRow[]): { digest: string; rows: number } {
    const hash = createHash('sha256');
    for (const row of rows) this.columns.forEach((c, i) => feed(hash, columnValue(c, row[i] ?? null)));
    return { digest: hash.digest('hex'), rows: rows.length };
  }

  /** Hash and count of the replica rows with key in (after, upTo], streamed. */
  replicaDigest(after: TextRow | undefined, upTo: TextRow | undefined): { digest: string; rows: number } {
    const conditions: string[] = [];
    const params: SqliteValue[] = [];
    const marks = `(${this.key.map(() => '?').join(', ')})`;
    if (after) {
      conditions.push(`${this.keyList} > ${marks}`);
      params.push(...this.keyValues(after));
    }
    if (upTo) {
      conditions.push(`${this.keyList} <= ${marks}`);
      params.push(...this.keyValues(upTo));
    }
    const sql = `${this.select}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY ${this.schema.key.map(sqlIdent).join(', ')}`;
    const hash = createHash('sha256');
    let rows = 0;
    for (const row of this.db.prepare(sql).raw().iterate(...params) as IterableIterator<SqliteValue[]>) {
      for (const v of row) feed(hash, v);
      rows++;
    }
    return { digest: hash.digest('hex'), rows };
  }

  keyRecord(text: TextRow | undefined): Record<string, string | null> | null {
    if (!text) return null;
    return Object.fromEntries(this.key.map((k, i) => [k.column, text[i] ?? null]));
  }
}

function selectTables(all: SchemaRecord[], wanted: VerifyOptions['tables']): SchemaRecord[] {
  if (!wanted) return all;
  return wanted.map((w) => {
    const s = all.find((t) => t.schema === w.schema && t.table === w.table);
    if (!s) {
      throw new ConfigError('VERIFY_TABLE_UNKNOWN', `the replica has no table for ${w.schema}.${w.table}`, {
        hint: `name tables the replica holds: ${all.map((t) => `${t.schema}.${t.table}`).join(', ') || '(none yet)'}`,
      });
    }
    return s;
  });
}

/** Compares the replica `db` with the source; see the file comment. */
export async function verifyReplica(db: ReplicaDb, source: VerifySource, options: VerifyOptions): Promise<VerifyTableResult[]> {
  const chunkRows = options.chunkRows ?? 2000;
  const settleMs = options.settleMs ?? 10_000;
  const results: VerifyTableResult[] = [];
  for (const schema of selectTables(replicaTables(db), options.tables)) {
    const t = new TableCheck(db, schema);
    const columns = t.columns.map((c) => c.name);
    const suspects: { after: TextRow | undefined; upTo: TextRow | undefined }[] = [];
    let after: TextRow | undefined;
    let rows = 0;
    let chunks = 0;
    for await (const chunk of source.chunks(schema, columns, t.key, chunkRows)) {
      const upTo = t.keyText(chunk[chunk.length - 1] as TextRow);
      const s = t.sourceDigest(chunk);
      if (s.digest !== t.replicaDigest(after, upTo).digest) suspects.push({ after, upTo });
      rows += chunk.length;
      chunks++;
      after = upTo;
    }
    // Rows of the replica past the source's last key (or any, for an empty source table).
    if (t.replicaDigest(after, undefined).rows > 0) suspects.push({ after, upTo: undefined });

    const differences: VerifyDifference[] = [];
    for (const range of suspects) {
      const deadline = Date.now() + settleMs;
      for (;;) {
        const src = t.sourceDigest(await source.range(schema, columns, t.key, range.after, range.upTo));
        const rep = t.replicaDigest(range.after, range.upTo);
        if (src.digest === rep.digest) break;
        if (Date.now() >= deadline) {
          differences.push({ table: t.name, after: t.keyRecord(range.after), upTo: t.keyRecord(range.upTo), sourceRows: src.rows, replicaRows: rep.rows });
          break;
        }
        options.logger.debug('chunk differs; re-checking while the replica may catch up', { table: t.name });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    results.push({ table: t.name, rows, chunks, differences });
  }
  return results;
}

/** The error `cdc verify` ends with when tables differ (exit 1). */
export function replicaDiffers(tables: string[], replica: string, name: string): CdcError {
  return new CdcError('REPLICA_DIFFERS', `the replica ${replica} differs from the source in ${tables.join(', ')}`, {
    hint: `if its sink is running and far behind, let it catch up (cdc status) and verify again, or widen --settle; otherwise run cdc rebuild ${name} --log LOG --replica ${replica}`,
  });
}
