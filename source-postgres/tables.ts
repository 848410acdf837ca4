/**
 * Which tables the log carries, kept in step with the catalog while `cdc start` runs. At start and
 * then every poll interval the catalog is compared with what the log holds:
 *
 *   catalog has a keyed table the log lacks (new, or renamed to) ─▶ add to the publication, read it
 *   its definition differs from the one its rows were read with  ─▶ read it again (DDL)
 *   the log has a table the catalog lacks (dropped, renamed away) ─▶ tombstone every key, drop record
 *   a captured table lost its key                                 ─▶ out of the publication, reported
 *
 * Reading a table again after DDL is what makes a replica built from offset zero exact: ADD COLUMN
 * with a default, a type change or a table rewrite give existing rows values that no change
 * record carries. Such a read must not happen before the stream has passed the DDL: a change made
 * before the DDL but streamed after the read would be the key's last record, without the rewrite.
 * So a poll that finds work only writes a barrier into the WAL (a non-transactional logical
 * message); when the stream reaches it, every transaction committed before it has been handled,
 * and the work is done then, between two stream messages, in a fresh snapshot:
 *
 *   poll ─▶ plan (catalog vs log) ─▶ work? ─▶ barrier into the WAL ··· stream reaches it ─▶ act
 *
 * The stream's records that follow the read are the same age or newer, so every key ends at its
 * latest value. A definition that changes again between the plan and the read is read once more,
 * at the barrier of the next poll (which the stream meets after that DDL), never at this one.
 * TRUNCATE is handled in stream order too: a tombstone for every key the topic holds.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { messageOf, retry, type Logger } from '../common/index.js';
import {
  auditTopics,
  encodeDrop,
  encodeDropKey,
  tombstoneEveryKey,
  schemaTopic,
  snapshotUndoneRecord,
  tableRef,
  tableTopic,
  type AppendRecord,
  type SnapshotDone,
  type SnapshotProgress,
  type TopicLog,
  type TopicSettings,
} from '../compaction/index.js';
import { listTables, uncapturedReason, type CatalogTable } from './catalog.js';
import type { ChangeMapper } from './changes.js';
import { qualified } from './connect.js';
import type { Delivery } from './delivery.js';
import { ensurePublication } from './publication.js';
import { parseResnapshotRequest, RESNAPSHOT_PREFIX } from './resnapshot-request.js';
import { snapshotTables } from './snapshot.js';

export interface CapturedTablesOptions {
  client: pg.Client;
  log: TopicLog;
  mapper: ChangeMapper;
  delivery: Delivery;
  logger: Logger;
  prefix: string;
  slot: string;
  publication: string;
  /** Tables named with --tables; every table with a key when absent. */
  wanted?: readonly { schema: string; table: string }[];
  topicSettings: TopicSettings;
  signal: AbortSignal;
}

/** The first reconcile of a new slot reads in the snapshot the slot exported. */
export interface ExportedSnapshot {
  name: string;
  afterImport: () => Promise<void>;
}

/** The prefix of cdc's barrier messages in the WAL. */
export const BARRIER_PREFIX = 'cdc.barrier';

interface Plan {
  readonly drops: SnapshotDone[];
  /** Tables to read, with the definition the catalog had when planned. */
  readonly reads: { table: CatalogTable; schemaId: string }[];
}

/** The tables the log carries, kept in step with the catalog (see the top of this file). */
export class CapturedTables {
  /** Tables read in full, by tableRef, with the definition they were read with. */
  private done = new Map<string, SnapshotDone>();
  private readonly reported = new Set<string>();
  /** Table topics made (or found) and audited in this run: each is ensured and audited once. */
  private readonly known = new Set<string>();
  /** The barrier written and not yet met, with the definitions planned then. */
  private pending: { id: string; planned: Map<string, string> } | null = null;

  constructor(private readonly o: CapturedTablesOptions) {}

  /** Reads interrupted half-way, by tableRef: the next read of such a table resumes after its last chunk. */
  private partial = new Map<string, SnapshotProgress>();

  /** Starts from what the log says was read before (by this slot). */
  load(done: Map<string, SnapshotDone>, partial: Map<string, SnapshotProgress> = new Map()): void {
    this.done = new Map(done);
    this.partial = new Map(partial);
  }

  /**
   * Runs work that reads Kafka and PostgreSQL outside the delivery path (which retries on its
   * own) a few times before failing `cdc start`: a loaded broker or a restarting leader is no
   * reason to stop. The work is repeatable; a failed delivery fails every attempt alike.
   */
  private again<T>(what: string, work: () => Promise<T>): Promise<T> {
    return retry(work, {
      attempts: 4,
      baseMs: 1000,
      maxMs: 8000,
      retriable: () => !this.o.signal.aborted,
      onRetry: (e, attempt, delay) => this.o.logger.warn(`${what} failed; retrying`, { attempt, delay_ms: Math.round(delay), error: messageOf(e) }),
    });
  }

  /** Reports a table that cannot be captured, with the reason and the fix, once until it changes. */
  reportKeyless(t: { schema: string; table: string; reason?: string | null }): void {
    const ref = tableRef(t.schema, t.table);
    if (this.reported.has(ref)) return;
    this.reported.add(ref);
    const { why, fix } = uncapturedReason(t.reason ?? null);
    this.o.logger.warn(`table ${t.schema}.${t.table} is not captured: ${why}`, {
      code: t.reason === 'keyless' || !t.reason ? 'TABLE_KEYLESS' : 'TABLE_NOT_CAPTURED',
      fix: fix.replace('ALTER TABLE ...', `ALTER TABLE ${qualified(t.schema, t.table)}`),
    });
  }

  /**
   * Compares the catalog with the log. Publication changes happen at once (a keyless table must
   * leave it before PostgreSQL rejects UPDATEs on it); drops and reads are returned, to be done
   * in stream order.
   */
  private async plan(): Promise<Plan> {
    const { o } = this;
    const all = await listTables(o.client);
    const wanted = o.wanted ? new Set(o.wanted.map((w) => tableRef(w.schema, w.table))) : null;
    const chosen = wanted ? all.filter((t) => wanted.has(tableRef(t.schema, t.table))) : all;
    const captured = chosen.filter((t) => t.key.length > 0);
    for (const t of chosen) if (t.key.length === 0) this.reportKeyless(t);
    for (const t of captured) this.reported.delete(tableRef(t.schema, t.table));
    // A table that lost its key misses changes from now on: once it has a key again it must be
    // read in full, so its marker goes (its topic and replicas keep the rows it had).
    const unkeyed = chosen.filter((t) => t.key.length === 0 && this.done.has(tableRef(t.schema, t.table)));
    for (const t of unkeyed) this.done.delete(tableRef(t.schema, t.table));
    if (unkeyed.length > 0) await o.delivery.appendNow(unkeyed.map((t) => snapshotUndoneRecord(o.prefix, o.slot, t.schema, t.table)));

    const topics = captured.map((t) => tableTopic(o.prefix, t.schema, t.table));
    // Only topics new to this run: a poll that finds nothing new must not wait on the log. It runs
    // in the stream's queue, so while Kafka is out of reach a poll calling the log held every
    // change behind it for the whole retry window — no append even started, and the source showed
    // nothing of what it was waiting for (found by lifecycle.test.ts with fast polls). A topic of a
    // table found while running may have been made by hand: audited once, like at start.
    const fresh = topics.filter((t) => !this.known.has(t));
    if (fresh.length > 0) {
      await o.log.ensureTopics(fresh, o.topicSettings);
      await auditTopics(o.log, fresh);
      for (const t of fresh) this.known.add(t);
    }
    await ensurePublication(o.client, o.publication, captured, o.mapper.rules);

    const existing = new Set(all.map((t) => tableRef(t.schema, t.table)));
    const drops = [...this.done.entries()].filter(([ref]) => !existing.has(ref)).map(([, d]) => d);
    const reads: Plan['reads'] = [];
    for (const t of captured) {
      const schema = await o.mapper.catalogSchema(t);
      const done = this.done.get(tableRef(t.schema, t.table));
      if (schema && (done?.schemaId !== schema.id || done.oid !== t.oid || (done.partitions ?? '') !== t.partitions)) reads.push({ table: t, schemaId: schema.id });
    }
    return { drops, reads };
  }

  /** The first run of a new slot: every captured table, in the snapshot the slot exported. */
  async initial(position: bigint, exported: ExportedSnapshot): Promise<void> {
    const { reads } = await this.plan();
    await this.read(position, reads, exported);
  }

  /** Looks for work; if there is some, writes a barrier for the stream to meet (see the top). */
  async poll(): Promise<void> {
    if (this.pending) return;
    const plan = await this.again('table poll', () => this.plan());
    if (plan.drops.length === 0 && plan.reads.length === 0) return;
    const id = randomUUID();
    this.pending = { id, planned: new Map(plan.reads.map((r) => [tableRef(r.table.schema, r.table.table), r.schemaId])) };
    await this.o.client.query('SELECT pg_logical_emit_message(false, $1, $2)', [BARRIER_PREFIX, JSON.stringify({ slot: this.o.slot, id })]);
  }

  /** A logical message from the stream: if it is this source's pending barrier, the work is done now. */
  async message(prefix: string, content: Buffer, position: bigint): Promise<void> {
    if (prefix === RESNAPSHOT_PREFIX) return this.resnapshot(content, position);
    if (prefix !== BARRIER_PREFIX || !this.pending) return;
    let barrier: unknown;
    try {
      barrier = JSON.parse(content.toString('utf8'));
    } catch {
      return;
    }
    const b = barrier as { slot?: unknown; id?: unknown };
    if (b.slot !== this.o.slot || b.id !== this.pending.id) return;
    const { planned } = this.pending;
    this.pending = null;
    // Each step can be done again after a failure half-way: tombstones and reads repeat harmlessly.
    const plan = await this.again('table changes', async () => {
      const fresh = await this.plan();
      for (const d of fresh.drops) await this.drop(d);
      // Only the reads planned before the barrier, with the definition planned then: DDL found now
      // may have committed after the barrier, with changes made before it still ahead in the
      // stream (under the old definition, which would then be written last). Such a table is left
      // for the next poll, whose barrier comes after that DDL.
      const reads = fresh.reads.filter((r) => planned.get(tableRef(r.table.schema, r.table.table)) === r.schemaId);
      await this.read(position, reads);
      return { drops: fresh.drops, reads };
    });
    // DDL between the plan and the read: the rows may predate changes still in the stream, so the
    // marker keeps the planned definition, and the next poll finds the table to read once more.
    for (const [ref, id] of planned) {
      const d = this.done.get(ref);
      if (d && d.schemaId !== id && plan.reads.some((r) => tableRef(r.table.schema, r.table.table) === ref)) this.done.set(ref, { ...d, schemaId: id });
    }
  }

  /**
   * A `cdc resnapshot` request reached in the stream (resnapshot-request.ts): the tables it names
   * are read again now. A table whose read was interrupted resumes it (the request is met again
   * after a crash); any other starts over, tombstoning the keys it no longer has.
   */
  private async resnapshot(content: Buffer, position: bigint): Promise<void> {
    const { o } = this;
    const named = parseResnapshotRequest(content, o.slot);
    if (!named) return;
    const wanted = new Set(named.map((t) => tableRef(t.schema, t.table)));
    await this.again('reading tables again', async () => {
      const all = await listTables(o.client);
      const reads: Plan['reads'] = [];
      for (const t of all.filter((t) => t.key.length > 0 && wanted.has(tableRef(t.schema, t.table)))) {
        if (o.wanted && !o.wanted.some((w) => w.schema === t.schema && w.table === t.table)) continue;
        const schema = await o.mapper.catalogSchema(t);
        if (schema) reads.push({ table: t, schemaId: schema.id });
      }
      for (const r of reads) this.done.delete(tableRef(r.table.schema, r.table.table));
      o.logger.info('reading tables again on request (cdc resnapshot)', { tables: reads.map((r) => `${r.table.schema}.${r.table.table}`).join(',') });
      await this.read(position, reads);
    });
  }

  private async read(position: bigint, reads: Plan['reads'], exported?: ExportedSnapshot): Promise<void> {
    const { o } = this;
    if (reads.length === 0 && !exported) return;
    const tables = reads.map((r) => r.table);
    if (tables.length > 0) o.logger.info('reading tables', { tables: tables.map((t) => `${t.schema}.${t.table}`).join(',') });
    // Changes still in the stream for an earlier table of the same name must not land after the
    // new read: the relations that wrote there look their name up again (and are dropped if gone).
    for (const t of tables) o.mapper.forgetTopic(tableTopic(o.prefix, t.schema, t.table));
    const read = await snapshotTables({
      client: o.client, log: o.log, tables, snapshotName: exported?.name, afterImport: exported?.afterImport, position,
      mapper: o.mapper, delivery: o.delivery, prefix: o.prefix, slot: o.slot, logger: o.logger, signal: o.signal, partial: this.partial,
    });
    for (const [ref, d] of read) {
      this.done.set(ref, d);
      this.partial.delete(ref);
    }
  }

  /** A table that is gone from the catalog: its rows leave the log, and a drop record tells sinks. */
  private async drop(d: SnapshotDone): Promise<void> {
    const { o } = this;
    const topic = tableTopic(o.prefix, d.schema, d.table);
    await o.delivery.flush();
    const keys = await tombstoneEveryKey(o.log, topic, (records) => o.delivery.add(records));
    const drop = { schema: d.schema, table: d.table, topic };
    const records: AppendRecord[] = [
      { topic: schemaTopic(o.prefix), key: encodeDropKey(drop), value: encodeDrop(drop) },
      snapshotUndoneRecord(o.prefix, o.slot, d.schema, d.table),
    ];
    await o.delivery.appendNow(records);
    o.mapper.forgetTopic(topic);
    this.done.delete(tableRef(d.schema, d.table));
    o.logger.info('table dropped from the log', { table: `${d.schema}.${d.table}`, keys });
  }

  /**
   * TRUNCATE, in stream order: a tombstone for every key the topic holds. Records the transaction
   * wrote before the TRUNCATE are appended first, so they are among the keys; its later inserts
   * follow the tombstones.
   */
  async truncate(oids: readonly number[]): Promise<void> {
    const { o } = this;
    await o.delivery.flush();
    for (const oid of oids) {
      const topic = await o.mapper.topicOf(oid);
      if (!topic) continue;
      const keys = await this.again('reading the keys of a truncated table', () => tombstoneEveryKey(o.log, topic, (records) => o.delivery.add(records)));
      o.logger.info('table truncated', { topic, keys });
    }
  }
}
