// X archives in the browser: an archive with media runs to gigabytes, but
// tweetsmith reads only data/tweets*.js (tweet.js in older archives),
// data/account.js and data/profile.js. So the page reads the zip's central
// directory in place (zip.js over File.slice: the media are never read), unpacks
// those few entries and uploads a small zip of them instead of the whole archive.
// The server's reader (lib/sources/archive-files.ts) then reads that zip as it
// would the original. A zip without a data/ folder is uploaded as it is.
//
// zip.js's native build inflates with the browser's DecompressionStream; web
// workers are off because the page's CSP (default-src 'self') allows no blob: workers.
import { BlobReader, BlobWriter, Uint8ArrayReader, Uint8ArrayWriter, ZipReader, ZipWriter, configure } from '@zip.js/zip.js/lib/zip-core-native.js';

configure({ useWebWorkers: false });

/** The data/ files the archive reader reads (lib/sources/x-archive.ts: TWEET_FILE, account.js, profile.js). */
const WANTED = /^(?:tweets?(?:-part\d+)?|account|profile)\.js$/;

export interface Extracted {
  /** the small zip to upload */
  zip: Blob;
  /** the data/ files it holds */
  files: string[];
  /** the original archive's size, for the message */
  originalBytes: number;
}

/**
 * The archive's wanted data/ files as a new zip, or undefined when the zip has
 * no data/ folder (not an X archive: it goes up whole and the server says what it is).
 */
export async function extractArchive(file: File, onProgress: (done: number, total: number) => void): Promise<Extracted | undefined> {
  const reader = new ZipReader(new BlobReader(file));
  try {
    const entries = await reader.getEntries();
    // As the server's reader does: data/ at the top or under one folder; the shortest prefix wins.
    const byPrefix = new Map<string, typeof entries>();
    for (const entry of entries) {
      const match = /^(.*?)data\/([^/]+)$/.exec(entry.filename);
      if (!match || entry.directory || (match[1] !== '' && !match[1]!.endsWith('/'))) continue;
      byPrefix.set(match[1]!, [...(byPrefix.get(match[1]!) ?? []), entry]);
    }
    const prefix = [...byPrefix.keys()].sort((a, b) => a.length - b.length)[0];
    if (prefix === undefined) return undefined;
    const wanted = byPrefix.get(prefix)!.filter((entry) => WANTED.test(entry.filename.slice(prefix.length + 'data/'.length)));
    if (wanted.length === 0) return undefined;
    const total = wanted.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
    let done = 0;
    const out = new ZipWriter(new BlobWriter('application/zip'));
    const files: string[] = [];
    for (const entry of wanted) {
      if (!('getData' in entry) || typeof entry.getData !== 'function') continue;
      const name = entry.filename.slice(prefix.length);
      const bytes = await entry.getData(new Uint8ArrayWriter(), {
        onprogress: async (progress: number) => onProgress(done + progress, total),
      });
      done += entry.uncompressedSize;
      onProgress(done, total);
      await out.add(name, new Uint8ArrayReader(bytes), { lastModDate: entry.lastModDate });
      files.push(name);
    }
    return { zip: await out.close(), files, originalBytes: file.size };
  } finally {
    await reader.close();
  }
}
