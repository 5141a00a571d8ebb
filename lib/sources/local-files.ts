// Posts from files the user made or exported: JSON Lines, CSV, plain text.
// The account's handle is the file's name (alice.csv → alice), except that
// JSON Lines written by `tweetsmith dataset` (posts.jsonl) carry their author.
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { CsvSyntaxError, parseCsv } from './csv-parse.js';
import { toIsoDate } from './dates.js';
import { SourceError } from './errors.js';
import { describeJson, FieldReader } from './json-fields.js';
import { looksLikeRetweet, type Author, type Post, type SourcePosts } from './post.js';

/** JSON Lines: one object a line with a `text` string; optional `id`, `created_at`, `is_retweet`. */
export async function readJsonLinesFile(source: string, path: string): Promise<SourcePosts> {
  const lines = (await readText(source, path)).split('\n');
  const rows: Array<{ line: number; value: Record<string, unknown> }> = [];
  lines.forEach((raw, index) => {
    const lineText = raw.replace(/\r$/, '');
    if (lineText.trim() === '') return;
    const line = index + 1;
    let value: unknown;
    try {
      value = JSON.parse(lineText);
    } catch (err) {
      throw new SourceError(source, `line ${line} is not valid JSON (${(err as Error).message})`, 'each line must be one JSON object like {"text": "…"}');
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new SourceError(source, `line ${line} is not a JSON object`, 'each line must be one JSON object like {"text": "…"}');
    }
    rows.push({ line, value: value as Record<string, unknown> });
  });
  const author = jsonLinesAuthor(source, rows) ?? authorFromFileName(path);
  const posts = rows.map(({ line, value }) => {
    if (typeof value.text !== 'string') {
      throw new SourceError(source, `line ${line} has no "text" string`, 'each line must be one JSON object like {"text": "…"}');
    }
    return toPost(source, `line ${line}`, author, {
      text: value.text,
      id: value.id ?? value.id_str,
      createdAt: value.created_at ?? value.createdAt,
      isRetweet: value.is_retweet ?? value.isRetweet,
      fallbackId: String(line),
    });
  });
  return { source, idSpace: `file:${path}`, profile: author, posts };
}

/** CSV with a header row and a `text` column; optional `id`, `created_at`, `is_retweet` columns. */
export async function readCsvFile(source: string, path: string): Promise<SourcePosts> {
  let records;
  try {
    records = parseCsv(await readText(source, path));
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw new SourceError(source, `is not valid CSV: ${err.message}`);
    throw err;
  }
  const header = records[0];
  if (!header) throw new SourceError(source, 'is empty', 'a CSV source needs a header row with a "text" column, then one post a row');
  const columns = header.fields.map((name) => name.trim().toLowerCase());
  const column = (name: string) => columns.indexOf(name);
  const textColumn = column('text');
  if (textColumn < 0) {
    const found = header.fields.map((name) => `"${name}"`).join(', ');
    throw new SourceError(source, `has no "text" column (its columns: ${found})`, 'rename the column that holds the posts to "text"');
  }
  const [idColumn, dateColumn, retweetColumn] = [column('id'), column('created_at'), column('is_retweet')];
  const author = authorFromFileName(path);
  const posts = records.slice(1).map(({ fields, line }) => {
    const cell = (index: number) => (index >= 0 ? fields[index] : undefined);
    return toPost(source, `line ${line}`, author, {
      text: cell(textColumn) ?? '',
      id: cell(idColumn) || undefined,
      createdAt: cell(dateColumn) || undefined,
      isRetweet: cell(retweetColumn) || undefined,
      fallbackId: String(line),
    });
  });
  return { source, idSpace: `file:${path}`, profile: author, posts };
}

/** Plain text: one post a line, blank lines skipped. */
export async function readTextFile(source: string, path: string): Promise<SourcePosts> {
  const author = authorFromFileName(path);
  const posts: Post[] = [];
  (await readText(source, path)).split('\n').forEach((raw, index) => {
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '') return;
    posts.push({ id: String(index + 1), text, createdAt: '', isRetweet: looksLikeRetweet(text), author });
  });
  return { source, idSpace: `file:${path}`, profile: author, posts };
}

async function readText(source: string, path: string): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.startsWith('\ufeff') ? text.slice(1) : text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SourceError(source, 'no such file');
    if (code === 'EISDIR') throw new SourceError(source, 'is a folder, not a file');
    throw new SourceError(source, `cannot be read (${(err as Error).message})`);
  }
}

function authorFromFileName(path: string): Author {
  return { handle: basename(path, extname(path)).toLowerCase() };
}

/**
 * The author that every line names, if they all name the same one (a
 * posts.jsonl of one person). An `author` of the wrong shape is an error that
 * names the line, not a silent fallback to the file's name.
 */
function jsonLinesAuthor(source: string, rows: Array<{ line: number; value: Record<string, unknown> }>): Author | undefined {
  let found: Author | undefined;
  let everyLine = true;
  for (const { line, value } of rows) {
    if (value.author === undefined || value.author === null) {
      everyLine = false;
      continue;
    }
    const author = FieldReader.of(source, `line ${line}: "author"`, value.author);
    const handle = author.string('handle');
    const name = author.optionalString('name');
    const avatarUrl = author.optionalString('avatarUrl');
    if (found && found.handle !== handle) everyLine = false;
    found ??= { handle, ...(name !== undefined ? { name } : {}), ...(avatarUrl !== undefined ? { avatarUrl } : {}) };
  }
  return everyLine ? found : undefined;
}

interface RawFields {
  text: string;
  id: unknown;
  createdAt: unknown;
  isRetweet: unknown;
  fallbackId: string;
}

function toPost(source: string, where: string, author: Author, raw: RawFields): Post {
  let createdAt = '';
  if (raw.createdAt !== undefined && raw.createdAt !== null && raw.createdAt !== '') {
    const iso = typeof raw.createdAt === 'string' ? toIsoDate(raw.createdAt) : undefined;
    if (!iso) throw new SourceError(source, `${where}: created_at ${describeJson(raw.createdAt)} is not a date`, 'use ISO 8601 (2023-08-12T16:10:37Z)');
    createdAt = iso;
  }
  if (raw.id !== undefined && raw.id !== null && typeof raw.id !== 'string' && typeof raw.id !== 'number') {
    throw new SourceError(source, `${where}: id is ${describeJson(raw.id)}, not a string or a number`);
  }
  const id = raw.id === undefined || raw.id === null ? raw.fallbackId : String(raw.id);
  return { id, text: raw.text, createdAt, isRetweet: readFlag(source, where, raw.isRetweet) ?? looksLikeRetweet(raw.text), author };
}

function readFlag(source: string, where: string, value: unknown): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  const text = typeof value === 'string' || typeof value === 'number' ? String(value).trim().toLowerCase() : '';
  if (['true', '1', 'yes'].includes(text)) return true;
  if (['false', '0', 'no'].includes(text)) return false;
  throw new SourceError(source, `${where}: is_retweet ${describeJson(value)} is not true or false`);
}
