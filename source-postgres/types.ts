/**
 * Column types as the log records them: PostgreSQL's display name (`numeric(10,2)`) and the base
 * type after domains are resolved (`int8`, or `_int8` with element `int8` for an array), which is
 * what the sink maps to a SQLite value. Looked up once per type and cached.
 */
import type pg from 'pg';
import type { ColumnDef } from '../compaction/index.js';

interface TypeRow {
  oid: string;
  typname: string;
  typtype: string;
  typbasetype: string;
  typelem: string;
  typcategory: string;
}

export class TypeResolver {
  private readonly rows = new Map<number, TypeRow>();
  private readonly display = new Map<string, string>();

  constructor(private readonly client: pg.Client) {}

  private async row(oid: number): Promise<TypeRow> {
    let r = this.rows.get(oid);
    if (!r) {
      const res = await this.client.query<TypeRow>('SELECT oid::text, typname, typtype, typbasetype::text, typelem::text, typcategory FROM pg_type WHERE oid = $1', [oid]);
      r = res.rows[0] ?? { oid: String(oid), typname: 'unknown', typtype: 'b', typbasetype: '0', typelem: '0', typcategory: 'X' };
      this.rows.set(oid, r);
    }
    return r;
  }

  /** Follows a domain to its base type (domains over domains too). */
  private async base(oid: number): Promise<TypeRow> {
    let r = await this.row(oid);
    for (let depth = 0; r.typtype === 'd' && depth < 16; depth++) r = await this.row(Number(r.typbasetype));
    return r;
  }

  /** The column definition for a column of type `oid` with modifier `typmod`. */
  async column(name: string, oid: number, typmod: number): Promise<ColumnDef> {
    const key = `${oid}/${typmod}`;
    let type = this.display.get(key);
    if (type === undefined) {
      const res = await this.client.query<{ t: string }>('SELECT format_type($1, $2) AS t', [oid, typmod]);
      type = res.rows[0]?.t ?? 'unknown';
      this.display.set(key, type);
    }
    const base = await this.base(oid);
    const elem = base.typcategory === 'A' && base.typelem !== '0' ? (await this.base(Number(base.typelem))).typname : null;
    return { name, type, base: base.typname, elem };
  }

  /** Forgets cached types (after DDL, which a Relation message signals). */
  clear(): void {
    this.rows.clear();
    this.display.clear();
  }
}
