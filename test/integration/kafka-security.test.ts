/**
 * TLS and SASL to Kafka: a private broker with a SASL_SSL listener (a certificate from a throwaway
 * CA, PLAIN and SCRAM-SHA-512 users). `cdc start` writes over PLAIN with the CA, a sink reads over
 * SCRAM with a password file, and a wrong password fails with exit 2 without printing it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, runCli, runCliToEnd, sql, startPrivateKafka, uniqueName, type PrivateKafka, type TestDatabase } from '../harness/index.js';
import { freePort } from '../../services/index.js';

const PLAIN_PASSWORD = 'plain-secret-4711';
const SCRAM_PASSWORD = 'scram-secret-4712';

describe('TLS and SASL to Kafka', () => {
  let kafka: PrivateKafka;
  let db: TestDatabase;
  let dir: string;
  let secure: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cdc-ksec-'));
    const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=cdc-test-ca', '-keyout', 'ca.key', '-out', 'ca.crt');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt');
    openssl('pkcs8', '-topk8', '-nocrypt', '-in', 'server.key', '-out', 'server.pk8');
    writeFileSync(join(dir, 'server.pem'), readFileSync(join(dir, 'server.pk8'), 'utf8') + readFileSync(join(dir, 'server.crt'), 'utf8'));

    [kafka, db] = await Promise.all([startPrivateKafka(), createDatabase('ksec')]);
    const c = kafka.control;
    const port = await freePort();
    await kafka.stop();
    const props = readFileSync(c.propertiesFile, 'utf8')
      .replace(/^listeners=(.*)$/m, `listeners=$1,SASL_SSL://127.0.0.1:${port}`)
      .replace(/^advertised\.listeners=(.*)$/m, `advertised.listeners=$1,SASL_SSL://127.0.0.1:${port}`)
      .replace(/^listener\.security\.protocol\.map=(.*)$/m, 'listener.security.protocol.map=$1,SASL_SSL:SASL_SSL');
    writeFileSync(
      c.propertiesFile,
      props +
        [
          'inter.broker.listener.name=PLAINTEXT',
          'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512',
          `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_cdc="${PLAIN_PASSWORD}";`,
          'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
          'ssl.keystore.type=PEM',
          `ssl.keystore.location=${join(dir, 'server.pem')}`,
          '',
        ].join('\n'),
    );
    await kafka.start();
    execFileSync(c.java, ['-cp', `${c.jarDir}/*`, 'kafka.admin.ConfigCommand', '--bootstrap-server', kafka.brokers, '--alter', '--entity-type', 'users', '--entity-name', 'cdcscram', '--add-config', `SCRAM-SHA-512=[password=${SCRAM_PASSWORD}]`], { stdio: 'pipe' });
    secure = `kafka://127.0.0.1:${port}`;
    await sql(db.url, 'CREATE TABLE t (id int PRIMARY KEY, v text)');
    await sql(db.url, "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 20) g");
  });

  afterAll(async () => {
    await kafka?.destroy();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes over TLS + SASL PLAIN and reads over TLS + SCRAM-SHA-512', async () => {
    const prefix = uniqueName('ksec');
    const start = runCli(['start', '--pg', db.url, '--log', secure, '--kafka-ca', join(dir, 'ca.crt'), '--kafka-sasl', 'plain', '--kafka-user', 'cdc', '--slot', prefix, '--topic-prefix', prefix], {
      env: { CDC_KAFKA_PASSWORD: PLAIN_PASSWORD },
    });
    try {
      await start.waitForOutput(/streaming changes/, 60_000);
    } finally {
      start.kill('SIGTERM');
    }
    const rs = await start.exited;
    expect(rs.code, rs.stderr).toBe(0);

    writeFileSync(join(dir, 'scram'), SCRAM_PASSWORD + '\n');
    const replica = join(dir, 'r.db');
    const rb = await runCliToEnd(['bootstrap', 'r', '--log', secure, '--replica', replica, '--topic-prefix', prefix, '--kafka-ca', join(dir, 'ca.crt'), '--kafka-sasl', 'scram-sha-512', '--kafka-user', 'cdcscram', '--kafka-password-file', join(dir, 'scram')]);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stderr).toMatch(/bootstrap complete/);
    expect(rb.stderr).toMatch(/"records":2\d/);
    for (const r of [rs, rb]) expect(r.stdout + r.stderr).not.toMatch(new RegExp(`${PLAIN_PASSWORD}|${SCRAM_PASSWORD}`));
  });

  it('fails with exit 2, naming Kafka and not the password, when the password is wrong or the CA is not trusted', async () => {
    const wrong = await runCliToEnd(['start', '--pg', db.url, '--log', secure, '--kafka-ca', join(dir, 'ca.crt'), '--kafka-sasl', 'plain', '--kafka-user', 'cdc', '--slot', uniqueName('ksec')], {
      env: { CDC_KAFKA_PASSWORD: 'not-the-password-99' },
    });
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(/^error: cannot reach Kafka at 127\.0\.0\.1:\d+: .*authentication failed/im);
    expect(wrong.stderr).toMatch(/^Try: check --kafka-sasl, --kafka-user and the password/m);
    expect(wrong.stdout + wrong.stderr).not.toContain('not-the-password-99');

    // TLS with the system's CAs only: the throwaway CA is not among them.
    const untrusted = await runCliToEnd(['start', '--pg', db.url, '--log', secure, '--kafka-tls', '--kafka-sasl', 'plain', '--kafka-user', 'cdc', '--slot', uniqueName('ksec')], {
      env: { CDC_KAFKA_PASSWORD: PLAIN_PASSWORD },
    });
    expect(untrusted.code, untrusted.stderr).toBe(2);
    expect(untrusted.stderr).toMatch(/^error: cannot reach Kafka at 127\.0\.0\.1:\d+: .*(certificate|verify)/im);
    expect(untrusted.stderr).toMatch(/^Try: pass the CA that signed the brokers' certificates with --kafka-ca FILE/m);
    expect(untrusted.stdout + untrusted.stderr).not.toContain(PLAIN_PASSWORD);
  });
});
