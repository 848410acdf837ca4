/**
 * At start, the capture rules against the catalog: a key column excluded or masked ends `cdc start`
 * (exit 2) before anything is written; a table or column the database does not have is a warning
 * (it may be created later, and a typo should not stop capture of everything else).
 */
import type pg from 'pg';
import type { Logger } from '../common/index.js';
import { generatedColumns, tableColumns, type CatalogTable } from './catalog.js';
import type { CaptureRules } from './capture-rules.js';

export async function checkCaptureRules(client: pg.Client, rules: CaptureRules, captured: readonly CatalogTable[], logger: Logger): Promise<void> {
  for (const named of rules.named()) {
    const table = captured.find((t) => t.schema === named.schema && t.table === named.table);
    if (!table) {
      logger.warn(`capture rules name ${named.schema}.${named.table}, which is not a captured table: they apply if it becomes one`, {
        code: 'CAPTURE_RULE_UNMATCHED',
        fix: 'check the name in --exclude-columns, --mask-columns and --row-filter (schema.table; an unqualified table is public)',
      });
      continue;
    }
    rules.checkKey(table.schema, table.table, table.key);
    // Stored generated columns are columns of the log too (changes.ts), though pgoutput omits them.
    const have = new Set([...(await tableColumns(client, table.oid)), ...(await generatedColumns(client, table.oid)).generated].map((c) => c.name));
    const missing = named.columns.filter((c) => !have.has(c));
    if (missing.length > 0) {
      logger.warn(`capture rules name column ${missing.map((c) => `${table.schema}.${table.table}.${c}`).join(', ')}, which the table does not have: they apply if it is added`, {
        code: 'CAPTURE_RULE_UNMATCHED',
        fix: 'check the column names in --exclude-columns and --mask-columns',
      });
    }
  }
}
