/** What a `cdc start` is told (cli/config.ts resolves it from flags, environment and file). */
import type { TopicSettings } from '../compaction/index.js';
import type { CaptureRules } from './capture-rules.js';

export interface SourceConfig {
  pgUrl: string;
  prefix: string;
  slot: string;
  publication: string;
  /** Tables to capture; all tables with a key when absent. */
  tables?: { schema: string; table: string }[];
  topicSettings?: TopicSettings;
  /** Records per log append. */
  batchRecords?: number;
  /** How often the catalog is checked for new, changed and dropped tables (ms). */
  tablePollMs?: number;
  /** Replace a lost slot with a new one and read every table again. */
  resnapshot?: boolean;
  /** How long transient failures are waited out before giving up (ms). */
  retryWindowMs?: number;
  /** Columns excluded and masked, row filters (capture-rules.ts); none when absent. */
  capture?: CaptureRules;
}
