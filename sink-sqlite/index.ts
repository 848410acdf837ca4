/**
 * The log into SQLite replicas: schema mapping, transactional apply with offsets, bootstrap and
 * follow.
 */
export { runSink } from './sink.js';
export type { SinkConfig, SinkDeps } from './sink.js';
export { columnValue, scalarValue, sqliteType } from './values.js';
export type { SqliteValue } from './values.js';
export { parsePgArray } from './pg-array.js';
export { replicaTableName, sqlIdent, checkReplicaDirectory } from './replica.js';
export { rebuildReplica } from './rebuild.js';
export type { RebuildResult } from './rebuild.js';
export { isCorruption, replicaCorrupt } from './integrity.js';
export { readReplicaStatus } from './replica-status.js';
export type { ReplicaStatus, ReplicaTopicStatus } from './replica-status.js';
export { verifyReplica, replicaDiffers } from './verify.js';
export type { VerifySource, VerifyKeyOrder, VerifyDifference, VerifyTableResult } from './verify.js';
