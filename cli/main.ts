/**
 * The `cdc` command line. Errors end here, once: `error: <what> [CODE]` and `Try: <fix>` on stderr, exit
 * code 2 for bad usage or configuration, 1 for failures; no stack trace unless CDC_DEBUG=1, and
 * every line passes through the redactor so no password is printed.
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CdcError, messageOf, redact } from '../common/index.js';
import * as bootstrap from './commands/bootstrap.js';
import * as config from './commands/config.js';
import * as copyLog from './commands/copy-log.js';
import * as demo from './commands/demo.js';
import * as rebuild from './commands/rebuild.js';
import * as resnapshot from './commands/resnapshot.js';
import * as status from './commands/status.js';
import * as verify from './commands/verify.js';
import * as sink from './commands/sink.js';
import * as start from './commands/start.js';
import { withConfigFile } from './config-file.js';
import type { Env } from './config.js';

class UsageError extends CdcError {
  constructor(message: string) {
    super('USAGE', message, { exitCode: 2, hint: 'cdc --help' });
  }
}

function printError(thrown: unknown): number {
  // The one place an error is reported, with its stable code for log searches and alerts. Anything
  // outside the family is a bug in cdc, reported the same way.
  const e = thrown instanceof CdcError
    ? thrown
    : new CdcError('UNEXPECTED', `unexpected failure: ${messageOf(thrown)}`, { hint: 'run again with CDC_DEBUG=1 and report the output', cause: thrown });
  process.stderr.write(redact(`error: ${e.message} [${e.code}]\n${e.hint ? `Try: ${e.hint}\n` : ''}`));
  if (process.env['CDC_DEBUG'] === '1' && thrown instanceof Error) process.stderr.write(redact(`${thrown.stack ?? ''}\n`));
  return e.exitCode;
}

interface CommandModule<F> {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv<F>;
  /** `env` has the config file merged under it; `rawEnv` is the process environment alone. */
  run: (flags: F, env: Env, rawEnv: Env) => Promise<void>;
}

export async function main(argv: string[], env: Env): Promise<number> {
  let action: (() => Promise<void>) | undefined;
  const register = <F>(y: Argv, m: CommandModule<F>): Argv =>
    y.command(m.command, m.describe, m.builder as (y: Argv) => Argv, (args) => {
      action = () => m.run(args as unknown as F, withConfigFile(typeof args['config'] === 'string' ? args['config'] : undefined, env), env);
    });
  let parser: Argv = yargs(argv)
    .scriptName('cdc')
    .usage('$0 <command> [options]')
    .option('log-level', { type: 'string', describe: 'debug, info, warn or error (env CDC_LOG_LEVEL)', global: true })
    .option('config', { type: 'string', describe: 'a JSON or YAML file of settings, under flags and environment (env CDC_CONFIG)', global: true })
    .strict()
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    }) as unknown as Argv;
  parser = register(parser, start as CommandModule<unknown>);
  parser = register(parser, bootstrap as CommandModule<unknown>);
  parser = register(parser, sink as CommandModule<unknown>);
  parser = register(parser, copyLog as CommandModule<unknown>);
  parser = register(parser, demo as CommandModule<unknown>);
  parser = register(parser, rebuild as CommandModule<unknown>);
  parser = register(parser, resnapshot as CommandModule<unknown>);
  parser = register(parser, status as CommandModule<unknown>);
  parser = register(parser, verify as CommandModule<unknown>);
  parser = register(parser, config as CommandModule<unknown>);
  try {
    await parser.parseAsync();
    if (action) await action();
    return 0;
  } catch (e) {
    return printError(e);
  }
}

main(hideBin(process.argv), process.env).then(
  (code) => {
    process.exitCode = code;
    // Lingering sockets of a failed client must not keep a finished command alive.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (e: unknown) => {
    process.exitCode = printError(e);
  },
);
