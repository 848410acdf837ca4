/**
 * Kafka's Fetch request, sent on @platformatic/kafka's connections, with a response parser of our
 * own that leaves each partition's records as bytes for kafka-records.ts to read. The request is
 * the library's own (its `fetchV13`…`fetchV17` modules); only the response differs from its Fetch:
 * the records are not decoded into its objects (the reason is in kafka-records.ts).
 *
 * Versions 13 to 17 share one response layout (topics by id). The client negotiated the version
 * with the broker (ApiVersions); one below 13 (Kafka before 3.1) is refused, as the library's
 * Fetch was already called with topic ids.
 */
import type { Broker, Connection, Consumer, Reader } from '@platformatic/kafka';
import { CdcError } from '../common/index.js';

type Library = typeof import('@platformatic/kafka');

/** One partition of a fetch response, its records as the broker sent them. */
export interface RawFetchPartition {
  readonly partitionIndex: number;
  readonly errorCode: number;
  readonly records: Buffer | undefined;
}

export interface RawFetchResponse {
  readonly responses: readonly { readonly topicId: string; readonly partitions: readonly RawFetchPartition[] }[];
}

/** What the request names of each topic (the library's own request type). */
export type FetchTopic = Parameters<Library['fetchV17']['createRequest']>[6][number];

/** Sends one fetch to `broker` through `client`'s connections. */
export type RawFetch = (client: Consumer, broker: Broker, topics: FetchTopic[], limits: { maxWaitMs: number; maxBytes: number }) => Promise<RawFetchResponse>;

const FETCH = 1;
const VERSIONS = [13, 14, 15, 16, 17] as const;

/** The raw fetch, over the library `lib`. */
export function rawFetch(lib: Library): RawFetch {
  const { createAPI, fetchV13, fetchV14, fetchV15, fetchV16, fetchV17, ResponseError } = lib;
  const requests = { 13: fetchV13.createRequest, 14: fetchV14.createRequest, 15: fetchV15.createRequest, 16: fetchV16.createRequest, 17: fetchV17.createRequest };

  /** The library's Fetch v17 response parser, records kept as bytes (a copy: the socket's buffers are not ours). */
  const parse = (_correlationId: number, apiKey: number, apiVersion: number, reader: Reader): RawFetchResponse => {
    const errors: [string, [number, null]][] = [];
    reader.readInt32(); // throttle_time_ms
    const errorCode = reader.readInt16();
    if (errorCode !== 0) errors.push(['', [errorCode, null]]);
    reader.readInt32(); // session_id
    const response: RawFetchResponse = {
      responses: reader.readArray((r, i) => ({
        topicId: r.readUUID(),
        partitions: r.readArray((r, j): RawFetchPartition => {
          const partitionIndex = r.readInt32();
          const errorCode = r.readInt16();
          r.readInt64(); // high_watermark
          r.readInt64(); // last_stable_offset
          r.readInt64(); // log_start_offset
          r.readArray((r) => (r.readInt64(), r.readInt64())); // aborted_transactions
          r.readInt32(); // preferred_read_replica
          if (errorCode !== 0) errors.push([`/responses/${i}/partitions/${j}`, [errorCode, null]]);
          const size = r.readUnsignedVarInt() - 1;
          let records: Buffer | undefined;
          if (size > 0) {
            records = Buffer.from(r.buffer.slice(r.position, r.position + size));
            r.skip(size);
          }
          return { partitionIndex, errorCode, records };
        }),
      })),
    };
    // The library's error for a failed fetch, so that kafka-errors.ts reads it as it read the library's.
    if (errors.length > 0) throw new ResponseError(apiKey, apiVersion, Object.fromEntries(errors), response);
    return response;
  };
  const apis = new Map(VERSIONS.map((v) => [v, createAPI<Parameters<Library['fetchV17']['createRequest']>, RawFetchResponse>(FETCH, v, requests[v], parse)]));

  const call = <T>(f: (callback: (error: Error | null, value?: T) => void) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => f((error, value) => (error ? reject(error) : resolve(value as T))));

  return async (client, broker, topics, { maxWaitMs, maxBytes }) => {
    // The version the client agreed with the brokers for its own Fetch.
    const version = (await call<{ version: number }>((cb) => client[lib.kGetApi]('Fetch', cb))).version;
    const api = apis.get(version as (typeof VERSIONS)[number]);
    if (api === undefined) {
      throw new CdcError('LOG_UNAVAILABLE', `the Kafka brokers offer Fetch version ${version}; cdc reads with versions 13 to 17 (Kafka 3.1 or later)`, {
        hint: 'upgrade the Kafka cluster to 3.1 or later',
      });
    }
    const connection = await call<Connection>((cb) => client[lib.kGetConnection](broker, cb));
    // min_bytes 1; isolation_level 1 (read committed), the library's default; no fetch session.
    return api.async(connection, maxWaitMs, 1, maxBytes, 1, 0, -1, topics, [], '');
  };
}
