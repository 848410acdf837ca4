/**
 * Passwords must never reach a terminal or a log. Every URL the user gives is registered here, and
 * every line `cdc` prints passes through {@link redact}, so a secret that leaks into a library's
 * error message is masked too.
 */

const secrets = new Set<string>();

/** Remember a secret so that {@link redact} masks it wherever it appears. */
export function registerSecret(secret: string | undefined): void {
  if (secret !== undefined && secret.length >= 3) {
    secrets.add(secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) secrets.add(encoded);
  }
}

/** Register the password of a URL (if any) as a secret. */
export function registerUrlSecrets(url: string): void {
  try {
    const parsed = new URL(url);
    if (parsed.password) registerSecret(decodeURIComponent(parsed.password));
    const fromQuery = parsed.searchParams.get('password');
    if (fromQuery) registerSecret(fromQuery);
  } catch {
    // A malformed URL is reported by its validator, which prints it through redactUrl.
  }
}

/** A URL with its password replaced by `***`; a string that is not a URL is masked conservatively. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.toString();
  } catch {
    return redact(url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@'));
  }
}

/** The text with every registered secret replaced by `***`. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}
