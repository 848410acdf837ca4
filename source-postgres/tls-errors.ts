/**
 * TLS failures when connecting to PostgreSQL, turned into errors that say which side is wrong.
 * Node reports certificate problems by OpenSSL code; pg reports a server without TLS in words.
 */
import { CdcError, messageOf } from '../common/index.js';

const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** A CdcError (exit 2) for a TLS failure, or undefined when `e` is something else. */
export function tlsConnectionError(at: string, code: string, e: unknown): CdcError | undefined {
  const options = { cause: e, exitCode: 2 as const };
  if (UNTRUSTED.has(code)) {
    return new CdcError('PG_TLS_UNTRUSTED', `PostgreSQL at ${at} presented a certificate that is not signed by a trusted CA (${code}: ${messageOf(e)})`, {
      ...options,
      hint: 'pass the CA that signed the server certificate with --pg-ca FILE (or sslrootcert=FILE in the URL)',
    });
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new CdcError('PG_TLS_NAME_MISMATCH', `PostgreSQL at ${at} presented a certificate for another host name (${messageOf(e)})`, {
      ...options,
      hint: 'connect with a host name the certificate lists (its subjectAltName), or reissue the certificate',
    });
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new CdcError('PG_TLS_EXPIRED', `PostgreSQL at ${at} presented a certificate that is not valid now (${code})`, { ...options, hint: 'renew the server certificate' });
  }
  if (/does not support SSL/i.test(messageOf(e))) {
    return new CdcError('PG_TLS_UNSUPPORTED', `PostgreSQL at ${at} does not accept TLS connections, but the URL asks for TLS (sslmode)`, {
      ...options,
      hint: 'turn ssl on in postgresql.conf (ssl_cert_file, ssl_key_file), or use sslmode=disable on a trusted network',
    });
  }
  return undefined;
}
