/**
 * The log between the source and the sinks: the TopicLog contract, its implementations, topic
 * naming and the record format.
 */
export type { TopicLog, LogRecord, AppendRecord, LogBatch, ConsumeOptions, Consumption, TopicSettings } from './topic-log.js';
export { defaultTopicSettings } from './topic-log.js';
export { KafkaLog } from './kafka-log.js';
export { parseLogLocation, openLog } from './log-url.js';
export type { LogLocation } from './log-url.js';
export { tableTopic, schemaTopic, validatePrefix } from './topic-names.js';
export { encodeKey, decodeKey, encodeChange, decodeChange, encodeSchema, encodeSchemaKey, decodeSchema, schemaId, encodeDrop, encodeDropKey, decodeSchemaEvent } from './codec.js';
export type { ColumnDef, TableSchema, SchemaRecord, RowValues, SourcePosition, ChangeValue, ChangeOp, TableDrop, SchemaEvent } from './codec.js';
export { readToEnd } from './read-to-end.js';
export { stateTopic, snapshotDoneRecord, snapshotUndoneRecord, snapshottedTables, tableRef } from './progress.js';
export type { SnapshotDone } from './progress.js';
export { liveKeys } from './live-keys.js';
