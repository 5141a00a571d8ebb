// The files of an X archive's data/ folder, whether the archive is the zip X
// sends or the folder it unpacks to. The zip is read in place (central
// directory, then only the entries asked for): archives with media run to
// gigabytes, and only a few small .js files are needed.
//
// An entry is read as a stream and its bytes counted: the size the zip
// declares is checked first but not trusted (a 1 MB zip may inflate to 1 GB,
// and its header may say 1 KB), so an entry is cut off the moment it passes
// `maxEntryBytes`, never inflated whole into memory first.
import { readdir, readFile, stat } from 'node:fs/promises';
import { constants as bufferConstants } from 'node:buffer';
import { basename, join } from 'node:path';
import { openPromise, type Entry, type ZipFile } from 'yauzl';
import { SOURCE_LIMITS } from '../defaults.js';
import { SourceError } from './errors.js';

export interface ArchiveOptions {
  /** The largest data/ file read, uncompressed (default SOURCE_LIMITS.maxArchiveEntryBytes: 2 GiB). */
  maxEntryBytes?: number;
}

export interface ArchiveFiles {
  /** File names directly inside data/ (`tweets.js`, `account.js`, …). */
  readonly dataFiles: readonly string[];
  /** The text of data/NAME. */
  readDataFile(name: string): Promise<string>;
  close(): void;
}

const DOWNLOAD_HINT =
  'Download it again from X (Settings → Your account → Download an archive of your data) and pass the .zip or the folder it unpacks to';

export async function openArchiveFolder(source: string, folder: string, options: ArchiveOptions = {}): Promise<ArchiveFiles> {
  const maxBytes = options.maxEntryBytes ?? SOURCE_LIMITS.maxArchiveEntryBytes;
  let dataDir = join(folder, 'data');
  if (!(await isDirectory(dataDir))) {
    // Someone may point at data/ itself rather than the folder around it.
    if (basename(folder) === 'data' && (await isDirectory(folder))) dataDir = folder;
    else throw new SourceError(source, 'is not an X archive: it has no data/ folder', DOWNLOAD_HINT);
  }
  const dataFiles = (await readdir(dataDir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  return {
    dataFiles,
    async readDataFile(name) {
      const path = join(dataDir, name);
      const size = (await stat(path)).size;
      if (size > maxBytes) throw entryTooLarge(source, name, `${size} bytes`, maxBytes);
      return decode(source, name, await readFile(path));
    },
    close: () => {},
  };
}

export async function openArchiveZip(source: string, zipPath: string, options: ArchiveOptions = {}): Promise<ArchiveFiles> {
  const maxBytes = options.maxEntryBytes ?? SOURCE_LIMITS.maxArchiveEntryBytes;
  let zip: ZipFile;
  try {
    zip = await openPromise(zipPath, { autoClose: false, strictFileNames: false });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SourceError(source, 'no such file');
    throw new SourceError(source, `is not a readable zip file (${(err as Error).message})`, DOWNLOAD_HINT);
  }
  try {
    // The data/ folder may sit at the top or under one folder (a re-zipped download).
    const byPrefix = new Map<string, Map<string, Entry>>();
    for await (const entry of zip.eachEntry()) {
      const match = /^(.*?)data\/([^/]+)$/.exec(entry.fileName);
      if (!match || (match[1] !== '' && !match[1]!.endsWith('/'))) continue;
      const files = byPrefix.get(match[1]!) ?? new Map<string, Entry>();
      files.set(match[2]!, entry);
      byPrefix.set(match[1]!, files);
    }
    const prefix = [...byPrefix.keys()].sort((a, b) => a.length - b.length)[0];
    if (prefix === undefined) throw new SourceError(source, 'is a zip file but not an X archive: it has no data/ folder', DOWNLOAD_HINT);
    const entries = byPrefix.get(prefix)!;
    return {
      dataFiles: [...entries.keys()],
      async readDataFile(name) {
        const entry = entries.get(name);
        if (!entry) throw new SourceError(source, `has no data/${name}`);
        if (entry.uncompressedSize > maxBytes) throw entryTooLarge(source, name, `${entry.uncompressedSize} bytes (as the zip declares)`, maxBytes);
        const chunks: Buffer[] = [];
        let received = 0;
        try {
          const stream = await zip.openReadStreamPromise(entry);
          for await (const chunk of stream) {
            received += (chunk as Buffer).length;
            if (received > maxBytes) {
              stream.destroy();
              throw entryTooLarge(source, name, `more than ${maxBytes} bytes`, maxBytes);
            }
            chunks.push(chunk as Buffer);
          }
        } catch (err) {
          if (err instanceof SourceError) throw err;
          throw new SourceError(source, `is a damaged zip file: data/${name} cannot be read (${(err as Error).message})`, DOWNLOAD_HINT);
        }
        return decode(source, name, Buffer.concat(chunks));
      },
      close: () => zip.close(),
    };
  } catch (err) {
    zip.close();
    if (err instanceof SourceError) throw err;
    throw new SourceError(source, `is a damaged zip file (${(err as Error).message})`, DOWNLOAD_HINT);
  }
}

function entryTooLarge(source: string, name: string, size: string, maxBytes: number): SourceError {
  return new SourceError(
    source,
    `data/${name} unpacks to ${size}, more than the ${maxBytes} bytes tweetsmith reads from one archive file`,
    'an archive from X is not like this: download it again, or allow more (maxArchiveEntryBytes)',
  );
}

/** The bytes as UTF-8 text; a file past the longest string JavaScript can hold is an error, not a crash. */
function decode(source: string, name: string, bytes: Buffer): string {
  try {
    return bytes.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STRING_TOO_LONG') throw err;
    throw new SourceError(
      source,
      `data/${name} is ${bytes.length} bytes, more text than one JavaScript string can hold (${bufferConstants.MAX_STRING_LENGTH} characters)`,
      'split the posts into smaller files (a .jsonl per year, say) and pass those instead',
    );
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
