/**
 * One streaming session of `cdc start`: a replication connection reading the slot from its
 * confirmed position, each change turned into records, each commit's end LSN confirmed once the
 * log holds everything up to it. While no transaction is open and nothing waits for the log, a
 * keepalive's position is confirmed too, so WAL written to uncaptured tables does not pile up.
 */
import type pg from 'pg';
import { crashPoint, formatLsn, type Logger } from '../common/index.js';
import type { ChangeMapper } from './changes.js';
import { connectPg } from './connect.js';
import type { Delivery } from './delivery.js';
import { pgTimeToIso } from './pgoutput.js';
import { ReplicationStream, type StreamEvent } from './stream.js';

export interface SessionOptions {
  pgUrl: string;
  slot: string;
  publication: string;
  mapper: ChangeMapper;
  delivery: Delivery;
  logger: Logger;
  /** The slot's confirmed position when the session starts. */
  confirmed: bigint;
  signal: AbortSignal;
  onStreaming?: () => void;
}

const STATUS_INTERVAL_MS = 10_000;

/** A live session's handle on the stream, for the delivery's confirmations. */
export interface SessionLink {
  confirmed: bigint;
  stream: ReplicationStream | undefined;
}

/** Streams until `signal` aborts (resolves after a clean stop) or the session fails (rejects). */
export async function streamSession(o: SessionOptions, link: SessionLink): Promise<void> {
  const { delivery, mapper, logger } = o;
  link.confirmed = o.confirmed;
  const replication: pg.Client = await connectPg(o.pgUrl, { replication: true });
  let tx: { lsn: string; txid: string; commitTime: string } | null = null;
  let stopping = false;
  const handle = async (event: StreamEvent): Promise<void> => {
    if (stopping) return;
    if (event.kind === 'keepalive') {
      if (tx === null && delivery.idle && event.walEnd > link.confirmed) {
        link.confirmed = event.walEnd;
        stream.sendStatus(link.confirmed);
      } else if (event.replyRequested) {
        stream.sendStatus(link.confirmed);
      }
      return;
    }
    const m = event.message;
    switch (m.tag) {
      case 'begin':
        tx = { lsn: formatLsn(m.finalLsn), txid: String(m.xid), commitTime: pgTimeToIso(m.commitTime) };
        return;
      case 'commit':
        tx = null;
        delivery.commit(m.endLsn);
        return;
      case 'relation': {
        const record = await mapper.relation(m);
        if (record) await delivery.appendNow([record]);
        return;
      }
      case 'insert':
      case 'update': {
        const source = { ...(tx ?? { lsn: formatLsn(event.lsn), txid: null, commitTime: null }), snapshot: false };
        await delivery.add(m.tag === 'insert' ? await mapper.insert(m, source) : await mapper.update(m, source));
        crashPoint('mid-transaction');
        return;
      }
      case 'delete':
        await delivery.add(mapper.delete(m));
        crashPoint('mid-transaction');
        return;
      case 'truncate':
        logger.error('TRUNCATE is not propagated: replicas keep the truncated rows until rebuilt from a new slot', {
          code: 'TRUNCATE_UNSUPPORTED',
          tables: m.relationOids.map((oid) => mapper.nameOf(oid)).join(','),
        });
        return;
      default:
        return;
    }
  };
  const stream = new ReplicationStream(replication, handle);
  link.stream = stream;
  try {
    stream.start(o.slot, o.publication, 0n);
    logger.info('streaming changes', { slot: o.slot, from: formatLsn(link.confirmed) });
    o.onStreaming?.();
    const timer = setInterval(() => stream.sendStatus(link.confirmed), STATUS_INTERVAL_MS);
    try {
      await new Promise<void>((resolve, reject) => {
        if (o.signal.aborted) resolve();
        o.signal.addEventListener('abort', () => resolve(), { once: true });
        stream.done.then(resolve, reject);
      });
    } finally {
      clearInterval(timer);
      stopping = true;
    }
    // Stopping: what was received goes to the log, the durable position to PostgreSQL.
    await delivery.flush();
    stream.sendStatus(link.confirmed);
  } finally {
    link.stream = undefined;
    await stream.stop();
  }
}
