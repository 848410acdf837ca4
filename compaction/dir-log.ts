/**
 * TopicLog on a local directory: the embedded log, for one machine without Kafka, with the same
 * promises (see topic-log.ts): an append resolves after fsync; offsets never change; readers in
 * any process see only durable records; closed segments are compacted in the background, keeping
 * the latest record of every key and tombstones for the delete retention.
 *
 *   <dir>/cdc-log.json      format marker
 *   <dir>/writer.lock       the pid of the one writer (cdc start)
 *   <dir>/topics/<topic>/   segments, hw, settings.json (embedded/files.ts)
 */
import { existsSync, statSync, watch, type FSWatcher } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CdcError, ConfigError, messageOf, SerialQueue, type Logger } from '../common/index.js';
import { cleanTopicOffThread } from './embedded/clean-off-thread.js';
import { mkdirDurable, readHighWater, readJson, writeFileAtomic } from './embedded/files.js';
import { liveWriter, lockWriter, type WriterLock } from './embedded/lock.js';
import { ReadBuffer, TopicReader } from './embedded/topic-reader.js';
import { TopicWriter } from './embedded/topic-writer.js';
import { defaultTopicSettings, type AppendRecord, type ConsumeOptions, type Consumption, type TopicDescription, type TopicLog, type TopicSettings } from './topic-log.js';

export interface DirLogOptions {
  path: string;
  logger: Logger;
  /** A segment closes (and becomes compactable) at this size. */
  segmentBytes?: number;
  /** How often the writer looks for segments to compact. */
  cleanerIntervalMs?: number;
  /** Bound on the cleaner's key map (≈100 bytes an entry). */
  cleanerMaxKeys?: number;
  /** How often an idle reader looks for new records if no write event woke it (a fallback: appends wake readers at once). */
  pollMs?: number;
}

const MARKER = 'cdc-log.json';
/** Bytes of records a consumption reads from a topic at a time: one batch for the sink at most. */
const READ_BYTES = 1 << 20;
const FORMAT = { format: 'cdc-embedded-log', version: 1 };

interface Writing {
  lock: WriterLock;
  writers: Map<string, TopicWriter>;
  timer: NodeJS.Timeout;
  cleaning: Promise<void> | null;
  cleanedAt: Map<string, bigint>;
}

export class DirLog implements TopicLog {
  readonly description: string;
  private readonly dir: string;
  private writing: Promise<Writing> | undefined;
  private readonly appends = new SerialQueue();
  private readonly consumptions = new Set<Consumption>();

  constructor(private readonly options: DirLogOptions) {
    this.dir = resolve(options.path);
    this.description = options.path;
  }

  private topicDir(topic: string): string {
    return join(this.dir, 'topics', topic);
  }

  async connect(): Promise<void> {
    const parent = dirname(this.dir);
    if (!existsSync(parent) || !statSync(parent).isDirectory()) {
      throw new ConfigError('LOG_DIR_MISSING', `the parent directory of --log ${this.options.path} does not exist (${parent})`, {
        hint: `create it first (mkdir -p ${parent}) or choose another --log directory`,
      });
    }
    if (existsSync(this.dir)) {
      if (!statSync(this.dir).isDirectory()) throw new ConfigError('LOG_NOT_DIR', `--log ${this.options.path} is a file, not a directory`, { hint: 'name a directory for the embedded log' });
      const entries = await readdir(this.dir);
      if (entries.length > 0 && !entries.includes(MARKER)) {
        throw new ConfigError('LOG_NOT_CDC', `--log ${this.options.path} is a directory that is not a cdc log (no ${MARKER})`, {
          hint: 'name an empty or new directory, or the directory an earlier cdc start created',
        });
      }
    }
  }

  /** Becomes the writer: creates the directory, takes the lock, starts the cleaner. */
  private startWriting(): Promise<Writing> {
    this.writing ??= (async () => {
      await this.connect();
      await mkdirDurable(join(this.dir, 'topics'));
      if (!existsSync(join(this.dir, MARKER))) await writeFileAtomic(join(this.dir, MARKER), JSON.stringify(FORMAT) + '\n');
      const lock = await lockWriter(this.dir);
      const w: Writing = { lock, writers: new Map(), timer: setInterval(() => this.clean(w), this.options.cleanerIntervalMs ?? 30_000), cleaning: null, cleanedAt: new Map() };
      w.timer.unref();
      return w;
    })();
    return this.writing;
  }

  private async writer(w: Writing, topic: string): Promise<TopicWriter> {
    let tw = w.writers.get(topic);
    if (!tw) {
      if (!existsSync(this.topicDir(topic))) throw new CdcError('TOPIC_UNKNOWN', `topic ${topic} does not exist in ${this.description}`);
      const { writer, truncatedBytes } = await TopicWriter.open(this.topicDir(topic), { segmentBytes: this.options.segmentBytes ?? 16 << 20, segmentMs: (await this.settings(topic)).segmentMs });
      if (truncatedBytes > 0) this.options.logger.warn('embedded log: cut a torn tail left by a crash', { topic, bytes: truncatedBytes });
      w.writers.set(topic, writer);
      tw = writer;
    }
    return tw;
  }

  private async settings(topic: string): Promise<TopicSettings> {
    try {
      return { ...defaultTopicSettings, ...(await readJson(join(this.topicDir(topic), 'settings.json')) as Partial<TopicSettings>) };
    } catch {
      return defaultTopicSettings;
    }
  }

  async ensureTopics(names: readonly string[], settings: TopicSettings = defaultTopicSettings): Promise<void> {
    const w = await this.startWriting();
    for (const name of new Set(names)) {
      const dir = this.topicDir(name);
      if (!existsSync(join(dir, 'settings.json'))) {
        // The topic's directory entry must survive a power loss with the records acked into it.
        await mkdirDurable(dir);
        await writeFileAtomic(join(dir, 'settings.json'), JSON.stringify(settings) + '\n');
      }
      await this.writer(w, name);
    }
  }

  async listTopics(prefix: string): Promise<string[]> {
    try {
      return (await readdir(join(this.dir, 'topics'))).filter((t) => t.startsWith(prefix)).sort();
    } catch {
      return [];
    }
  }

  append(records: readonly AppendRecord[]): Promise<void> {
    // One append at a time: offsets are assigned in call order, and an ack covers a whole call.
    return this.appends.run(() => this.appendNow(records));
  }

  private async appendNow(records: readonly AppendRecord[]): Promise<void> {
    if (records.length === 0) return;
    const w = await this.startWriting();
    const byTopic = new Map<string, AppendRecord[]>();
    for (const r of records) {
      let list = byTopic.get(r.topic);
      if (!list) byTopic.set(r.topic, (list = []));
      list.push(r);
    }
    const now = Date.now();
    try {
      const touched: TopicWriter[] = [];
      for (const [topic, list] of byTopic) {
        const tw = await this.writer(w, topic);
        await tw.write(list, now);
        touched.push(tw);
      }
      for (const tw of touched) await tw.sync();
    } catch (e) {
      if (e instanceof CdcError) throw e;
      throw new CdcError('LOG_APPEND_FAILED', `cannot append to the embedded log ${this.description}: ${messageOf(e)}`, {
        hint: 'check free disk space and permissions of the log directory',
        cause: e,
      });
    }
  }

  async endOffsets(topics: readonly string[]): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    for (const t of topics) out.set(t, await readHighWater(this.topicDir(t)).catch(() => 0n));
    return out;
  }

  /**
   * One partition, one copy (`local`: replication settings do not apply), and the settings the
   * cleaner works by, under Kafka's names: what the audit and the tombstone-horizon check read.
   */
  async describeTopics(topics: readonly string[]): Promise<Map<string, TopicDescription>> {
    const out = new Map<string, TopicDescription>();
    for (const t of topics) {
      if (!existsSync(join(this.topicDir(t), 'settings.json'))) continue;
      const s = await this.settings(t);
      const configs = new Map([
        ['cleanup.policy', 'compact'],
        ['delete.retention.ms', String(s.deleteRetentionMs)],
        ['min.compaction.lag.ms', String(s.minCompactionLagMs)],
        ['segment.ms', String(s.segmentMs)],
      ]);
      out.set(t, { partitions: 1, replicationFactor: 1, local: true, configs });
    }
    return out;
  }

  /**
   * The first record appended at or after `timestampMs`, found by reading the topic from its start
   * (the embedded log keeps no time index; records are in append order, so the scan stops there).
   */
  async offsetAtTime(topic: string, timestampMs: number): Promise<bigint> {
    const reader = new TopicReader(this.topicDir(topic), topic, 0n);
    try {
      for (;;) {
        const before = reader.next;
        const { records, nextOffset } = await reader.read(1 << 20);
        const young = records.find((r) => (r.timestamp ?? 0) >= timestampMs);
        if (young) return young.offset;
        if (records.length === 0 && nextOffset === before) return nextOffset;
      }
    } finally {
      await reader.close();
    }
  }

  async consume(options: ConsumeOptions): Promise<Consumption> {
    // The readers take turns (one read at a time below), so they share one read buffer.
    const buffer = new ReadBuffer(READ_BYTES);
    const readers = [...options.from].map(([topic, offset]) => new TopicReader(this.topicDir(topic), topic, offset, buffer));
    const pollMs = this.options.pollMs ?? 1000;
    let stopped = false;
    let wake: (() => void) | undefined;
    // A write to a topic's directory (its `hw` published after an fsync'd append, by this process
    // or another) wakes the reader at once; the poll is only a fallback for a missed event.
    let woken = false;
    const paused = new Set<string>();
    const watchers = readers.flatMap((r) => watchTopic(this.topicDir(r.topic), () => ((woken = true), wake?.())));
    const done = (async () => {
      try {
        while (!stopped) {
          let progressed = false;
          for (const reader of readers) {
            if (stopped) break;
            if (paused.has(reader.topic)) continue;
            const before = reader.next;
            const { records, nextOffset } = await reader.read(READ_BYTES);
            if (records.length === 0 && nextOffset === before) continue;
            progressed = true;
            await options.onBatch({ topic: reader.topic, records, nextOffset });
          }
          if (!progressed && !stopped && !woken) await new Promise<void>((r) => ((wake = r), setTimeout(r, pollMs)));
          wake = undefined;
          woken = false;
        }
      } finally {
        for (const w of watchers) w.close();
        await Promise.all(readers.map((r) => r.close()));
      }
    })();
    done.catch(() => undefined);
    const consumption: Consumption = {
      done,
      stop: async () => {
        stopped = true;
        wake?.();
        await done.catch(() => undefined);
        this.consumptions.delete(consumption);
      },
      pause: (topic) => void paused.add(topic),
      resume: (topic) => {
        if (!paused.delete(topic)) return;
        woken = true;
        wake?.();
      },
    };
    this.consumptions.add(consumption);
    return consumption;
  }

  /** One cleaner pass over the topics that got new closed segments since the last one. */
  private clean(w: Writing): void {
    if (w.cleaning) return;
    w.cleaning = (async () => {
      for (const [topic, tw] of w.writers) {
        const active = tw.activeSegment;
        if (w.cleanedAt.get(topic) === active) continue;
        const settings = await this.settings(topic);
        try {
          const r = await cleanTopicOffThread(this.topicDir(topic), active, {
            deleteRetentionMs: settings.deleteRetentionMs,
            minCompactionLagMs: settings.minCompactionLagMs,
            segmentBytes: this.options.segmentBytes ?? 16 << 20,
            maxKeys: this.options.cleanerMaxKeys ?? 500_000,
          });
          w.cleanedAt.set(topic, active);
          if (r.recordsRemoved > 0) this.options.logger.debug('embedded log compacted', { topic, removed: r.recordsRemoved, bytes_before: r.bytesBefore, bytes_after: r.bytesAfter });
        } catch (e) {
          this.options.logger.warn('embedded log compaction failed; will retry', { topic, error: messageOf(e) });
        }
      }
    })().finally(() => (w.cleaning = null));
  }

  /** The process writing this log now (other than this one), if any. */
  async otherWriter(): Promise<string | undefined> {
    const pid = await liveWriter(this.dir);
    return pid === undefined || pid === process.pid ? undefined : `cdc start (pid ${pid})`;
  }

  /** Runs a cleaner pass now and waits for it (tests, `cdc demo`). */
  async compactNow(): Promise<void> {
    if (!this.writing) return;
    const w = await this.writing;
    await w.cleaning;
    w.cleanedAt.clear();
    this.clean(w);
    await w.cleaning;
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumptions].map((c) => c.stop()));
    if (!this.writing) return;
    const w = await this.writing.catch(() => undefined);
    if (!w) return;
    clearInterval(w.timer);
    await w.cleaning;
    await this.appends.idle();
    for (const tw of w.writers.values()) await tw.close();
    await w.lock.release();
  }
}

/** Watches a topic's directory for writes; none (polling alone) where the platform cannot watch it. */
function watchTopic(dir: string, onWrite: () => void): FSWatcher[] {
  try {
    const w = watch(dir, { persistent: false }, onWrite);
    w.on('error', () => w.close());
    return [w];
  } catch {
    return [];
  }
}
