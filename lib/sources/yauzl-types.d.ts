// The part of yauzl's API that archive-files.ts uses (yauzl ships no types of
// its own, and the project keeps its type packages to what it needs).
declare module 'yauzl' {
  import type { Readable } from 'node:stream';

  export interface Entry {
    fileName: string;
    uncompressedSize: number;
  }

  export interface ZipFile {
    /** Entries one at a time (needs lazyEntries, which openPromise sets). */
    eachEntry(): AsyncIterable<Entry>;
    openReadStreamPromise(entry: Entry): Promise<Readable>;
    close(): void;
  }

  export function openPromise(path: string, options?: { autoClose?: boolean; strictFileNames?: boolean }): Promise<ZipFile>;
}
