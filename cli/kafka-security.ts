/** TLS and SASL settings for a `kafka://` log, resolved and checked before anything connects. */
import { ConfigError } from '../common/index.js';
import type { KafkaSecurity } from '../compaction/index.js';
import type { Env } from './env.js';
import { readCaFile, secretFrom } from './secrets.js';

/** Flags that change how Kafka is reached. */
export interface KafkaSecurityFlags {
  kafkaTls?: boolean;
  kafkaCa?: string;
  kafkaSasl?: string;
  kafkaUser?: string;
  kafkaPasswordFile?: string;
}

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
type Mechanism = (typeof MECHANISMS)[number];

/** Parses `true/false/1/0/yes/no` from the environment; a flag's boolean passes through. */
export function booleanSetting(flag: boolean | undefined, env: Env, key: string, envVar: string): boolean | undefined {
  if (flag !== undefined) return flag;
  const text = env[envVar];
  if (text === undefined || text === '') return undefined;
  const t = text.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(t)) return true;
  if (['false', '0', 'no', 'off'].includes(t)) return false;
  throw new ConfigError('CONFIG_VALUE_INVALID', `${envVar}=${text} (--${key}) is not true or false`, { hint: `set ${envVar}=true or ${envVar}=false` });
}

/** The security of a Kafka log, or undefined when none is asked for. */
export function kafkaSecurity(flags: KafkaSecurityFlags, env: Env, logIsKafka: boolean): KafkaSecurity | undefined {
  const ca = flags.kafkaCa ?? env['CDC_KAFKA_CA'];
  const tls = booleanSetting(flags.kafkaTls, env, 'kafka-tls', 'CDC_KAFKA_TLS') ?? (ca !== undefined && ca !== '');
  const mechanismText = flags.kafkaSasl ?? env['CDC_KAFKA_SASL'];
  const asked = tls || (mechanismText !== undefined && mechanismText !== '');
  if (!asked) return undefined;
  if (!logIsKafka) {
    throw new ConfigError('KAFKA_OPTION_WITHOUT_KAFKA', '--kafka-tls / --kafka-ca / --kafka-sasl are set but --log is not a kafka:// log', { hint: 'drop the --kafka-* settings, or pass --log kafka://host:9093' });
  }
  const security: KafkaSecurity = {};
  if (tls) security.tls = ca !== undefined && ca !== '' ? { ca: readCaFile(ca, '--kafka-ca') } : {};
  if (mechanismText !== undefined && mechanismText !== '') {
    const mechanism = mechanismText.toLowerCase();
    if (!(MECHANISMS as readonly string[]).includes(mechanism)) {
      throw new ConfigError('KAFKA_SASL_INVALID', `--kafka-sasl ${mechanismText} is not one of ${MECHANISMS.join(', ')}`, { hint: 'pass --kafka-sasl scram-sha-512 (or plain over --kafka-tls)' });
    }
    const username = flags.kafkaUser ?? env['CDC_KAFKA_USER'];
    if (username === undefined || username === '') {
      throw new ConfigError('KAFKA_USER_MISSING', `--kafka-sasl ${mechanism} needs a user name`, { hint: 'pass --kafka-user NAME or set CDC_KAFKA_USER' });
    }
    const password = secretFrom(env, flags.kafkaPasswordFile, 'CDC_KAFKA_PASSWORD', 'CDC_KAFKA_PASSWORD_FILE', 'kafka-password-file');
    if (password === undefined) {
      throw new ConfigError('KAFKA_PASSWORD_MISSING', `--kafka-sasl ${mechanism} needs a password`, { hint: 'pass --kafka-password-file FILE or set CDC_KAFKA_PASSWORD' });
    }
    security.sasl = { mechanism: mechanism as Mechanism, username, password };
  }
  return security;
}
