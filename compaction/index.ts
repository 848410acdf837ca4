/**
 * The log between the source and the sinks: the TopicLog contract, its implementations, topic
 * naming and the record format.
 */
export type { TopicLog, LogRecord, AppendRecord, AppendOptions, LogBatch, ConsumeOptions, Consumption, TopicSettings, TopicDescription } from './topic-log.js';
export { defaultTopicSettings } from './topic-log.js';
export { KafkaLog } from './kafka-log.js';
export type { KafkaSecurity } from './kafka-log.js';
export { DirLog } from './dir-log.js';
export type { DirLogOptions } from './dir-log.js';
export { parseLogLocation, openLog } from './log-url.js';
export type { LogLocation, DirTuning } from './log-url.js';
export { tableTopic, schemaTopic, validatePrefix } from './topic-names.js';
export { encodeKey, decodeKey, encodeChange, decodeChange, sourcePosition, encodeSchema, encodeSchemaKey, decodeSchema, schemaId, encodeDrop, encodeDropKey, decodeSchemaEvent } from './codec.js';
export type { ColumnDef, TableSchema, SchemaRecord, RowValues, SourcePosition, ChangeValue, ChangeOp, TableDrop, SchemaEvent } from './codec.js';
export { readToEnd } from './read-to-end.js';
export { stateTopic, isSnapshotDoneRecord, snapshotProgressRecord, snapshotDoneRecord, snapshotUndoneRecord, snapshottedTables, readSnapshotState, tableRef } from './progress.js';
export type { SnapshotProgress, SnapshotDone, SnapshotState } from './progress.js';
export { tombstoneEveryKey } from './live-keys.js';
export { copyLog } from './copy-log.js';
export type { CopyResult } from './copy-log.js';
export { auditTopics, auditTopic } from './audit.js';
export type { AuditFinding } from './audit.js';
export { LOG_FORMAT, END_MARK_KEY, FORMAT_KEY, isEndMark, endMarkRecords, decodeEndMark, formatRecord } from './tx-marks.js';
export type { EndMark } from './tx-marks.js';
