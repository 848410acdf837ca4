/**
 * Upserts bound several rows to a statement: `INSERT INTO t (…) VALUES (…), (…), … ON CONFLICT …`.
 *
 * Why: a bootstrap's SQLite work was one `run()` per row, and each run pays better-sqlite3's call,
 * bind and reset, and SQLite's statement start, around the insert itself. Binding 32 rows to one
 * statement made the bench's raw upsert of 1M rows 1.4–1.7× as fast (docs/benchmarks.md). SQLite
 * inserts the rows of a VALUES list one after another, each taking its own ON CONFLICT branch, so
 * a key that repeats within one statement ends with its last row, as separate runs would leave it.
 *
 * Rows wait here until `flush()`, which the caller must call before anything else touches the
 * table (a delete, another definition's upsert, the end of the transaction). A run of r rows is
 * written with statements of 32, 16, …, 1 rows (the binary digits of r), each prepared once.
 */
import type { Statement } from 'better-sqlite3';
import type { ReplicaDb } from './replica.js';
import type { SqliteValue } from './values.js';

/** Rows bound to one statement at most; beyond 8 the gain was small in the spike, 32 kept it all. */
const GROUP_ROWS = 32;
/** SQLite's limit on a statement's parameters in better-sqlite3's build (SQLITE_MAX_VARIABLE_NUMBER). */
const MAX_PARAMETERS = 32_766;

export class UpsertRun {
  /** Statement of 2^i rows at index i, prepared when first used. */
  private readonly statements: (Statement | undefined)[] = [];
  /** The largest group, a power of two. */
  private readonly most: number;
  private readonly pending: SqliteValue[];
  private rows = 0;

  /**
   * @param sql the statement for `rows` rows, given the VALUES list that binds them
   * @param width parameters of one row
   */
  constructor(
    private readonly db: ReplicaDb,
    private readonly sql: (values: string) => string,
    private readonly width: number,
  ) {
    let most = 1;
    while (most * 2 <= GROUP_ROWS && most * 2 * width <= MAX_PARAMETERS) most *= 2;
    this.most = most;
    this.pending = new Array<SqliteValue>(most * width);
  }

  /** The one-row statement, prepared now: a definition whose upsert cannot be prepared fails here. */
  prepare(): void {
    this.statement(0);
  }

  /** Queues one row's parameters (`width` of them); writes a full group at once. */
  add(params: readonly SqliteValue[]): void {
    const at = this.rows * this.width;
    for (let j = 0; j < this.width; j++) this.pending[at + j] = params[j] as SqliteValue;
    if (++this.rows === this.most) {
      this.statement(Math.log2(this.most)).run(this.pending);
      this.rows = 0;
    }
  }

  /** Writes the rows queued. */
  flush(): void {
    let left = this.rows;
    if (left === 0) return;
    this.rows = 0;
    let from = 0;
    for (let i = Math.log2(this.most) - 1; i >= 0; i--) {
      const n = 1 << i;
      if (left < n) continue;
      this.statement(i).run(this.pending.slice(from * this.width, (from + n) * this.width));
      from += n;
      left -= n;
    }
  }

  /** Drops the rows queued, unwritten (their transaction is rolled back). */
  clear(): void {
    this.rows = 0;
  }

  private statement(i: number): Statement {
    let st = this.statements[i];
    if (st === undefined) {
      const one = `(${new Array<string>(this.width).fill('?').join(', ')})`;
      st = this.db.prepare(this.sql(new Array<string>(1 << i).fill(one).join(', ')));
      this.statements[i] = st;
    }
    return st;
  }
}
