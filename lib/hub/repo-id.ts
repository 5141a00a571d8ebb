// Hub repository ids ("gpt2", "openai-community/gpt2") and the name of their
// folder in the cache, spelt as huggingface_hub spells it.

/** huggingface_hub's validate_repo_id: one optional namespace, letters, digits, `-`, `_`, `.`. */
const REPO_ID = /^(?:[\w.-]+\/)?[\w.-]+$/;
const MAX_REPO_ID_LENGTH = 96;

export function isRepoId(id: string): boolean {
  return (
    REPO_ID.test(id) &&
    id.length <= MAX_REPO_ID_LENGTH &&
    // "--" would make two ids share a cache folder, ".." would climb out of it.
    !id.includes('--') &&
    !id.includes('..') &&
    !/^[.-]|[.-]$|[.-]\/|\/[.-]/.test(id)
  );
}

/** `models--{org}--{name}`, or `models--{name}` for an id without a namespace. */
export function repoFolderName(repo: string): string {
  return ['models', ...repo.split('/')].join('--');
}

/** A 40-hex git commit id: a revision that names content which can never change. */
export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/** `{endpoint}/{repo}/resolve/{revision}/{file}`, quoted as huggingface_hub quotes it (a revision like "refs/pr/1" is one segment). */
export function resolveUrl(endpoint: string, repo: string, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

/**
 * An etag as the hub gives it for a file: the git blob sha1 (40 hex) of a
 * regular file, or the sha256 (64 hex) of an LFS file. It names the blob in
 * the cache, so nothing else (a path, `..`) may pass.
 */
export function isBlobEtag(etag: string): boolean {
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(etag);
}

/**
 * A file name inside a repository, as it becomes a path under the snapshot:
 * `/`-separated parts, none empty, `.` or `..`, no backslash, no NUL or other
 * control character, not absolute.
 */
export function isRepoFileName(file: string): boolean {
  if (file === '' || file.length > 255 || file.includes('\\') || /[\u0000-\u001f\u007f]/.test(file)) return false;
  if (/^[a-zA-Z]:/.test(file)) return false;
  return file.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/**
 * A branch or tag name (or `refs/pr/1`) as it becomes `refs/<revision>` in the
 * cache: the same rules as a file name.
 */
export function isRevisionName(revision: string): boolean {
  return isRepoFileName(revision);
}
