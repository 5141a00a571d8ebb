// One repository's folder in the hub cache, laid out as huggingface_hub lays it out:
//   <cache>/models--org--name/blobs/<etag>                 file contents, named by etag
//   <cache>/models--org--name/snapshots/<commit>/<file>    relative symlink to ../../blobs/<etag>
//   <cache>/models--org--name/refs/<revision>              the commit a branch or tag pointed to
//   <cache>/models--org--name/.no_exist/<commit>/<file>    empty: the file is known to be absent
//   <cache>/.locks/models--org--name/<etag>.lock           held while a blob is written
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { HubError } from './hub-error.js';
import { isBlobEtag, isCommitHash, isRepoFileName, isRevisionName, repoFolderName } from './repo-id.js';

export class RepoCache {
  /** The repository's folder: `<cache>/models--…`. */
  readonly root: string;
  readonly locksDir: string;

  constructor(
    readonly cacheDir: string,
    readonly repo: string,
  ) {
    this.root = join(cacheDir, repoFolderName(repo));
    this.locksDir = join(cacheDir, '.locks', repoFolderName(repo));
  }

  /**
   * Every name below comes from the hub (commit, etag) or the user (revision,
   * file): the callers check them as they arrive, and each path is checked
   * again here, the one place that turns names into paths, so that no value
   * can name a path outside the repository's folder.
   */
  private check(kind: string, value: string, ok: (value: string) => boolean): string {
    if (!ok(value)) {
      throw new HubError('bad-response', this.repo, `${this.repo}: ${JSON.stringify(value.slice(0, 100))} is not a ${kind}, so it cannot name anything in the cache ${this.root}`);
    }
    return value;
  }

  blobPath(etag: string): string {
    return join(this.root, 'blobs', this.check('file hash', etag, isBlobEtag));
  }

  snapshotDir(commit: string): string {
    return join(this.root, 'snapshots', this.check('commit id', commit, isCommitHash));
  }

  /** The file's path in the snapshot (a "pointer" in huggingface_hub's words). */
  pointerPath(commit: string, file: string): string {
    return join(this.snapshotDir(commit), ...this.check('file name', file, isRepoFileName).split('/'));
  }

  noExistPath(commit: string, file: string): string {
    return join(this.root, '.no_exist', this.check('commit id', commit, isCommitHash), ...this.check('file name', file, isRepoFileName).split('/'));
  }

  lockPath(etag: string): string {
    return join(this.locksDir, `${this.check('file hash', etag, isBlobEtag)}.lock`);
  }

  private refPath(revision: string): string {
    return join(this.root, 'refs', ...this.check('revision', revision, isRevisionName).split('/'));
  }

  async ensureDirs(): Promise<void> {
    await mkdir(join(this.root, 'blobs'), { recursive: true });
  }

  /** True when the snapshot holds the file and its blob is there (a dangling symlink does not count). */
  hasFile(commit: string, file: string): boolean {
    return existsSync(this.pointerPath(commit, file));
  }

  knownAbsent(commit: string, file: string): boolean {
    return existsSync(this.noExistPath(commit, file));
  }

  /**
   * The commit a revision names: itself when it is a commit hash, else what
   * refs/<revision> recorded (when that is a commit id: a damaged ref file
   * counts as no ref).
   */
  async commitFor(revision: string): Promise<string | undefined> {
    if (isCommitHash(revision)) return revision;
    try {
      // Python writes the ref without a newline; a hand-edited one may have one.
      const commit = (await readFile(this.refPath(revision), 'utf8')).trim();
      return isCommitHash(commit) ? commit : undefined;
    } catch (err) {
      if (err instanceof HubError) throw err;
      return undefined;
    }
  }

  /** Records which commit a branch or tag name pointed to; a commit hash needs no ref. */
  async saveRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    this.check('commit id', commit, isCommitHash);
    const ref = this.refPath(revision);
    if ((await this.commitFor(revision)) === commit) return;
    await mkdir(dirname(ref), { recursive: true });
    await writeFile(ref, commit);
  }

  async markAbsent(commit: string, file: string): Promise<void> {
    const path = this.noExistPath(commit, file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, '');
  }

  /**
   * Puts the blob into the snapshot as a relative symlink, so the cache can be
   * moved or mounted elsewhere. Where symlinks are not allowed (Windows without
   * developer mode, some network drives) the file is copied instead; a blob
   * just downloaded is moved rather than copied, as huggingface_hub does, so a
   * large model is not stored twice.
   */
  async link(etag: string, commit: string, file: string, newBlob: boolean): Promise<void> {
    const blob = this.blobPath(etag);
    const pointer = this.pointerPath(commit, file);
    await mkdir(dirname(pointer), { recursive: true });
    // A dangling or stale pointer is replaced.
    await rm(pointer, { force: true });
    try {
      await symlink(relative(dirname(pointer), blob), pointer, 'file');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another process linked the same file between our rm and symlink.
      if (code === 'EEXIST' && existsSync(pointer)) return;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EINVAL') throw err;
      if (newBlob) await rename(blob, pointer);
      else await copyFile(blob, pointer);
    }
  }
}
