/**
 * The walsender conversation: START_REPLICATION on a replication connection, XLogData and
 * keepalive messages in, standby status updates out. Written on `pg` directly rather than through
 * pg-logical-replication, whose acknowledgement writes LSN+1 (which can make a restart skip a
 * transaction whose commit record starts right at the confirmed position) and whose decoder runs
 * type parsers over the values.
 *
 * `messages 'true'` (PostgreSQL 14+) lets the source see its own barriers in the WAL (tables.ts).
 *
 * Messages are handed to one async handler, one at a time, in order. The socket is paused while too
 * many wait, so a slow log slows the walsender instead of growing memory.
 */
import type pg from 'pg';
import { CdcError, errorCode, formatLsn, messageOf } from '../common/index.js';
import { quoteIdent, quoteLiteral } from './connect.js';
import { decodePgoutput, type PgoutputMessage } from './pgoutput.js';

export type StreamEvent =
  | { readonly kind: 'data'; readonly lsn: bigint; readonly message: PgoutputMessage }
  | { readonly kind: 'keepalive'; readonly walEnd: bigint; readonly replyRequested: boolean };

/** The part of pg's connection object that the replication protocol needs. */
interface WireConnection {
  on(event: 'copyData', listener: (msg: { chunk: Buffer }) => void): void;
  sendCopyFromChunk(chunk: Buffer): void;
  stream: { pause(): void; resume(): void };
}

const HIGH_WATER = 2000;
const LOW_WATER = 200;
const PG_EPOCH_MS = 946_684_800_000;

export class ReplicationStream {
  private readonly wire: WireConnection;
  private readonly queue: StreamEvent[] = [];
  private draining = false;
  private paused = false;
  private failure: unknown;
  private fail!: (e: unknown) => void;
  /** Settles when the stream ends: resolves on stop(), rejects on any failure. */
  readonly done: Promise<void>;
  private finish!: () => void;
  private stopped = false;

  constructor(
    private readonly client: pg.Client,
    private readonly handler: (event: StreamEvent) => Promise<void>,
  ) {
    this.wire = (client as unknown as { connection: WireConnection }).connection;
    this.done = new Promise<void>((resolve, reject) => {
      this.finish = resolve;
      this.fail = (e) => {
        if (this.failure !== undefined || this.stopped) return;
        this.failure = e;
        reject(e);
      };
    });
    this.done.catch(() => undefined);
  }

  /** Starts streaming from `startLsn` (0 = where the slot's confirmed position is). */
  start(slot: string, publication: string, startLsn: bigint): void {
    this.wire.on('copyData', ({ chunk }) => this.receive(chunk));
    const sql = `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(startLsn)} (proto_version '1', publication_names ${quoteLiteral(quoteIdent(publication))}, messages 'true')`;
    this.client.query(sql).then(
      () => (this.stopped ? this.finish() : this.fail(new CdcError('STREAM_ENDED', 'PostgreSQL ended the replication stream', { retriable: true }))),
      (e: unknown) => (this.stopped ? this.finish() : this.fail(streamError(slot, e))),
    );
    this.client.on('error', (e) => this.fail(streamError(slot, e)));
    this.client.on('end', () => (this.stopped ? this.finish() : this.fail(new CdcError('STREAM_ENDED', 'the replication connection to PostgreSQL closed', { retriable: true }))));
  }

  private receive(chunk: Buffer): void {
    try {
      const type = chunk[0];
      if (type === 0x77) {
        // XLogData: start LSN, server WAL end, send time, then one pgoutput message.
        this.queue.push({ kind: 'data', lsn: chunk.readBigUInt64BE(1), message: decodePgoutput(chunk, 25) });
      } else if (type === 0x6b) {
        this.queue.push({ kind: 'keepalive', walEnd: chunk.readBigUInt64BE(1), replyRequested: chunk[17] === 1 });
      } else {
        return;
      }
    } catch (e) {
      this.fail(e);
      return;
    }
    if (!this.paused && this.queue.length >= HIGH_WATER) {
      this.paused = true;
      this.wire.stream.pause();
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      let event: StreamEvent | undefined;
      while (!this.stopped && this.failure === undefined && (event = this.queue.shift()) !== undefined) {
        await this.handler(event);
        if (this.paused && this.queue.length <= LOW_WATER) {
          this.paused = false;
          this.wire.stream.resume();
        }
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.draining = false;
    }
  }

  /** Tells the server that everything before `lsn` is durable downstream (write = flush = apply). */
  sendStatus(lsn: bigint): void {
    if (this.stopped) return;
    const msg = Buffer.alloc(34);
    msg[0] = 0x72; // 'r'
    msg.writeBigUInt64BE(lsn, 1);
    msg.writeBigUInt64BE(lsn, 9);
    msg.writeBigUInt64BE(lsn, 17);
    msg.writeBigInt64BE(BigInt(Date.now() - PG_EPOCH_MS) * 1000n, 25);
    msg[33] = 0;
    this.wire.sendCopyFromChunk(msg);
  }

  /** Stops handing out messages and closes the connection (after the caller's last status). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.queue.length = 0;
    await this.client.end().catch(() => undefined);
    this.finish();
  }
}

function streamError(slot: string, e: unknown): CdcError {
  if (e instanceof CdcError) return e;
  const code = errorCode(e);
  if (code === '55006') {
    return new CdcError('SLOT_IN_USE', `replication slot ${slot} is active for another connection`, {
      hint: 'stop the other cdc start first, or pass another --slot',
      retriable: true,
      cause: e,
    });
  }
  if (code === '55000' && /replication slot/i.test(messageOf(e))) {
    return new CdcError('SLOT_LOST', `replication slot ${slot} can no longer be read (${messageOf(e)}): changes since its last confirmed position may be missing`, {
      hint: 'run cdc start --resnapshot (same flags) to start over with a new slot; replicas converge',
      cause: e,
    });
  }
  if (code === '42704') {
    return new CdcError('SLOT_LOST', `replication slot ${slot} no longer exists: changes since the last confirmed position may be missing`, {
      hint: 'run cdc start --resnapshot (same flags) to start over with a new slot; replicas converge',
      cause: e,
    });
  }
  return new CdcError('STREAM_FAILED', `the replication stream failed: ${messageOf(e)}`, { retriable: true, cause: e });
}
