// The files of an X archive's data/ folder, whether the archive is the zip X
// sends or the folder it unpacks to. The zip is read in place (central
// directory, then only the entries asked for): archives with media run to
// gigabytes, and only a few small .js files are needed.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { openPromise, type Entry, type ZipFile } from 'yauzl';
import { SourceError } from './errors.js';

export interface ArchiveFiles {
  /** File names directly inside data/ (`tweets.js`, `account.js`, …). */
  readonly dataFiles: readonly string[];
  /** The text of data/NAME. */
  readDataFile(name: string): Promise<string>;
  close(): void;
}

const DOWNLOAD_HINT =
  'Download it again from X (Settings → Your account → Download an archive of your data) and pass the .zip or the folder it unpacks to';

export async function openArchiveFolder(source: string, folder: string): Promise<ArchiveFiles> {
  let dataDir = join(folder, 'data');
  if (!(await isDirectory(dataDir))) {
    // Someone may point at data/ itself rather than the folder around it.
    if (basename(folder) === 'data' && (await isDirectory(folder))) dataDir = folder;
    else throw new SourceError(source, 'is not an X archive: it has no data/ folder', DOWNLOAD_HINT);
  }
  const dataFiles = (await readdir(dataDir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  return {
    dataFiles,
    readDataFile: (name) => readFile(join(dataDir, name), 'utf8'),
    close: () => {},
  };
}

export async function openArchiveZip(source: string, zipPath: string): Promise<ArchiveFiles> {
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
        try {
          const chunks: Buffer[] = [];
          for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
          return Buffer.concat(chunks).toString('utf8');
        } catch (err) {
          throw new SourceError(source, `is a damaged zip file: data/${name} cannot be read (${(err as Error).message})`, DOWNLOAD_HINT);
        }
      },
      close: () => zip.close(),
    };
  } catch (err) {
    zip.close();
    if (err instanceof SourceError) throw err;
    throw new SourceError(source, `is a damaged zip file (${(err as Error).message})`, DOWNLOAD_HINT);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
