/**
 * Progress of a replay: on a terminal one line rewritten in place (records, records/s, and each
 * topic's share against its end offset); otherwise a plain log line every few seconds, so a CI log
 * or a journal stays readable.
 */
import type { Logger } from '../common/index.js';

const TTY_EVERY_MS = 250;
const LINE_EVERY_MS = 5000;

/** Where and how {@link Progress} reports. */
export interface ProgressOptions {
  logger: Logger;
  /** Where the terminal line goes; when absent (or not a terminal) log lines are used. */
  tty?: NodeJS.WriteStream | undefined;
  /** What is running, for the messages: `bootstrap`, `rebuild`, `sink`. */
  what: string;
}

/** Counts applied records and reports them at a readable pace (see the file comment). */
export class Progress {
  private readonly started = Date.now();
  private last = 0;
  private records = 0;
  private readonly perTopic = new Map<string, { records: number; at: bigint; end: bigint | undefined }>();
  private drawn = false;

  constructor(private readonly options: ProgressOptions) {}

  /** Records `n` records applied from `topic`, now at `offset` of `end` (none while following). */
  update(topic: string, n: number, offset: bigint, end: bigint | undefined): void {
    this.records += n;
    const t = this.perTopic.get(topic) ?? { records: 0, at: 0n, end };
    t.records += n;
    t.at = offset;
    t.end = end;
    this.perTopic.set(topic, t);
    const now = Date.now();
    const tty = this.options.tty?.isTTY === true ? this.options.tty : undefined;
    if (now - this.last < (tty ? TTY_EVERY_MS : LINE_EVERY_MS)) return;
    this.last = now;
    const rate = Math.round(this.records / Math.max((now - this.started) / 1000, 0.001));
    if (tty) {
      const topics = [...this.perTopic].map(([name, p]) => `${name.split('.').slice(1).join('.')} ${p.end ? `${pct(p.at, p.end)}%` : p.records}`);
      const line = `${this.options.what}: ${this.records.toLocaleString('en')} records  ${rate.toLocaleString('en')}/s  ${topics.join('  ')}`;
      tty.write(`\r${line.slice(0, (tty.columns || 120) - 1)}\x1b[K`);
      this.drawn = true;
    } else {
      const fields: Record<string, string | number> = { records: this.records, records_per_s: rate };
      for (const [name, p] of this.perTopic) fields[name] = p.end ? `${p.at}/${p.end}` : String(p.at);
      this.options.logger.info(`${this.options.what} progress`, fields);
    }
  }

  /** Ends the terminal line, if one was drawn. */
  finish(): void {
    if (this.drawn) this.options.tty?.write('\n');
    this.drawn = false;
  }
}

function pct(at: bigint, end: bigint): number {
  if (end <= 0n) return 100;
  return Math.min(100, Number((at * 1000n) / end) / 10);
}
