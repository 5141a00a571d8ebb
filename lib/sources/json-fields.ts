// Fields of untrusted JSON (an archive's .js files, a service's reply, a line
// of a .jsonl), read with their types checked. A field of the wrong type is a
// SourceError that names the source, where in it (`data/tweets.js: item 3`,
// a URL) and the field, so a damaged or hostile input never turns into a
// TypeError deep inside cleaning, or into an object where a string belongs.
import { SourceError } from './errors.js';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** What a value is, in a few words, for messages (never the whole value: it may be huge). */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return value.length > 40 ? 'a string' : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value === 'number' ? 'the number' : typeof value === 'boolean' ? 'the boolean' : 'a'} ${String(value)}`;
}

/** Reads the fields of one JSON object; `where` says what it is, for messages. */
export class FieldReader {
  constructor(
    readonly source: string,
    readonly where: string,
    readonly object: JsonObject,
  ) {}

  /** An object where `value` must be one, else the error. */
  static of(source: string, where: string, value: unknown, what = 'an object'): FieldReader {
    if (value === undefined) throw new SourceError(source, `${where} is not JSON`, DAMAGED_HINT);
    if (!isObject(value)) throw new SourceError(source, `${where} is ${describeJson(value)}, not ${what}`, DAMAGED_HINT);
    return new FieldReader(source, where, value);
  }

  private wrong(name: string, expected: string): SourceError {
    return new SourceError(this.source, `${this.where}: "${name}" is ${describeJson(this.object[name])}, not ${expected}`, DAMAGED_HINT);
  }

  /** A string field; absent (or null) gives undefined. */
  optionalString(name: string): string | undefined {
    const value = this.object[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw this.wrong(name, 'a string');
    return value;
  }

  string(name: string): string {
    const value = this.optionalString(name);
    if (value === undefined) throw new SourceError(this.source, `${this.where} has no "${name}"`, DAMAGED_HINT);
    return value;
  }

  /** A nested object; absent (or null) gives undefined. */
  optionalObject(name: string): FieldReader | undefined {
    const value = this.object[name];
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) throw this.wrong(name, 'an object');
    return new FieldReader(this.source, `${this.where}.${name}`, value);
  }

  /** A list field; absent (or null) gives []. */
  list(name: string): unknown[] {
    const value = this.object[name];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw this.wrong(name, 'a list');
    return value;
  }
}

const DAMAGED_HINT = 'the data is damaged or not what this source sends';
