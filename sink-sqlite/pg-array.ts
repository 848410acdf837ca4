/**
 * PostgreSQL's array text form (`{1,NULL,"a \"b\""}`, `{{1,2},{3,4}}`, `[0:1]={7,8}`) parsed into
 * nested arrays of element texts, NULL as null.
 */
import { CdcError } from '../common/index.js';

export type PgArray = (string | null | PgArray)[];

/** An array value that is not in PostgreSQL's array text form: the record cannot be applied. */
export class PgArrayError extends CdcError {
  constructor(text: string, reason: string) {
    super('ARRAY_MALFORMED', `cannot parse the array ${JSON.stringify(text.slice(0, 80))}: ${reason}`, {
      hint: 'this is a bug in cdc or an array type it does not know; please report it with the column type',
    });
  }
}

export function parsePgArray(text: string, delimiter = ','): PgArray {
  let pos = 0;
  // Arrays with non-default lower bounds carry a dimension decoration before '='.
  if (text.startsWith('[')) {
    const eq = text.indexOf('=');
    if (eq < 0) throw new PgArrayError(text, 'dimension decoration without "="');
    pos = eq + 1;
  }
  const skipSpace = (): void => {
    while (pos < text.length && /\s/.test(text[pos] as string)) pos++;
  };
  const parseArray = (): PgArray => {
    if (text[pos] !== '{') throw new PgArrayError(text, `expected "{" at ${pos}`);
    pos++;
    const out: PgArray = [];
    skipSpace();
    if (text[pos] === '}') {
      pos++;
      return out;
    }
    for (;;) {
      skipSpace();
      const c = text[pos];
      if (c === '{') out.push(parseArray());
      else if (c === '"') {
        pos++;
        let s = '';
        while (pos < text.length && text[pos] !== '"') {
          if (text[pos] === '\\') pos++;
          s += text[pos] ?? '';
          pos++;
        }
        if (text[pos] !== '"') throw new PgArrayError(text, 'unterminated quoted element');
        pos++;
        out.push(s);
      } else {
        let s = '';
        while (pos < text.length && text[pos] !== delimiter && text[pos] !== '}') {
          if (text[pos] === '\\') pos++;
          s += text[pos] ?? '';
          pos++;
        }
        s = s.trim();
        out.push(s.toUpperCase() === 'NULL' ? null : s);
      }
      skipSpace();
      if (text[pos] === delimiter) {
        pos++;
        continue;
      }
      if (text[pos] === '}') {
        pos++;
        return out;
      }
      throw new PgArrayError(text, `unexpected ${JSON.stringify(text[pos] ?? 'end')} at ${pos}`);
    }
  };
  const result = parseArray();
  skipSpace();
  if (pos !== text.length) throw new PgArrayError(text, 'text after the closing "}"');
  return result;
}
