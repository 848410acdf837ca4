/**
 * PostgreSQL into the log: publication and slot management, the consistent initial snapshot, the
 * pgoutput stream, and LSN confirmation only after the log has the records.
 */
export { createSource } from './source.js';
export type { Source, SourceDeps } from './source.js';
export type { SourceConfig } from './source-config.js';
export { validatePgUrl, connectPg, quoteIdent } from './connect.js';
export { parseTableList } from './catalog.js';
export { decodePgoutput, pgTimeToIso } from './pgoutput.js';
export type { PgoutputMessage, Tuple, TupleValue } from './pgoutput.js';
export { slotStatus } from './slot-status.js';
export type { SlotStatus } from './slot-status.js';
export { readTableChunks, readKeyRange } from './table-reader.js';
export type { KeyOrder } from './table-reader.js';
export { parseColumnList, parseMaskList, parseRowFilters, MASK_MODES } from './capture-options.js';
export type { ColumnRef, MaskMode, MaskRule, RowFilter } from './capture-options.js';
export { captureRules, CaptureRules } from './capture-rules.js';
export type { CaptureRuleInput, TableRules } from './capture-rules.js';
export { maskValue, REDACTED } from './masking.js';
export { requestResnapshot, RESNAPSHOT_PREFIX } from './resnapshot-request.js';
export type { ResnapshotRequest } from './resnapshot-request.js';
export { listTables, selectTables } from './catalog.js';
