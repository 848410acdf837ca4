/** `cdc bootstrap NAME`: build a new replica by replaying every topic from offset zero. */
import type { Argv } from 'yargs';
import type { Env, SinkFlags } from '../config.js';
import { runSinkCommand, sinkOptions } from './sink.js';

export const command = 'bootstrap <name>';
export const describe = 'build a new replica from offset zero of every topic';

export function builder(y: Argv): Argv<SinkFlags> {
  return sinkOptions(y).option('follow', { type: 'boolean', describe: 'keep following the log afterwards, like cdc sink' }) as unknown as Argv<SinkFlags>;
}

export function run(flags: SinkFlags, env: Env): Promise<void> {
  return runSinkCommand(flags, env, 'bootstrap');
}
