// Publishing a model folder to the Hugging Face hub, through the maintained
// @huggingface/hub library: it speaks the hub's commit API (preupload, the
// NDJSON commit), git LFS (batch, basic and multipart uploads) and xet, so
// none of that protocol is written here. This module decides what goes up
// (push-files.ts), makes sure the repository exists, and turns every failure
// into a message that says what happened and what to do (push-error.ts).
//
// Steps: whoami (checks the token before anything large moves, and names the
// account for `--repo NAME` and for a 403) → create the repository (409: it
// exists, fine) → the branch when it is not main → one commit with every file.
// Re-running is safe: the hub answers the LFS batch for a file it already has
// with no upload action, and a commit changes the repository only when it
// completes.
//
// Downloads stay on lib/hub/'s own code (resolve-model.ts), not this library's
// downloadFileToCacheDir / snapshotDownload. Against our fake hub and a hostile
// one (2.17.5, scripts/hub-library-eval.mts) they do not qualify:
// downloadFileToCacheDir names the snapshot folder by the file's last commit
// (lastCommit.id), not the revision's commit, and writes no refs/<revision>. It
// asks the JSON API (paths-info) instead of HEAD on resolve URLs, so
// test/hub.test.ts fails. It joins the server's etag and commit onto the cache
// path unchecked ("../../x" escapes). It accepts a body longer than announced or
// with the wrong sha256, and leaves .incomplete files behind. It has no lock, and
// console.debug writes to stdout. Details: docs/hub-library.md.
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFile } from 'node:fs/promises';
import type { CommitOperation, CommitOutput, HubApiError } from '@huggingface/hub';
import { describeNetworkError } from './hub-error.js';
import { hubEndpoint, hubToken } from './hub-settings.js';
import { PushError, WRITE_TOKEN_HINT } from './push-error.js';
import { selectFilesToPush, type FileToPush } from './push-files.js';
import { isRepoId } from './repo-id.js';

export interface PushOptions {
  /** "user/name", or "name" for the token's own account. */
  repo: string;
  /** Create the repository as private (an existing one keeps its visibility). Default false. */
  private?: boolean;
  /** The branch to commit to; created when missing. Default "main". */
  revision?: string;
  /** The commit's title. Default "Upload <folder> with tweetsmith". */
  message?: string;
  /** Default: read from tokenFile, else HF_TOKEN, else the file `huggingface-cli login` wrote. */
  token?: string;
  /** A file holding the token (its first line). */
  tokenFile?: string;
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Also publish run/, the run record (it holds the posts and the training text). Default true. */
  includeRun?: boolean;
  progress?: (event: PushProgress) => void;
  fetch?: typeof fetch;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export type PushProgress =
  | { type: 'repo'; repo: string; url: string; created: boolean }
  | { type: 'phase'; phase: 'preuploading' | 'uploadingLargeFiles' | 'committing' }
  | { type: 'file'; path: string; state: 'hashing' | 'uploading'; progress: number };

export interface PushResult {
  repo: string;
  /** `<endpoint>/<repo>`: the model's page. */
  url: string;
  revision: string;
  /** Whether this push created the repository. */
  created: boolean;
  commit: { oid: string; url: string };
  files: { path: string; size: number }[];
  /** Entries of the folder that were not published. */
  leftOut: string[];
}

type Stage = 'whoami' | 'create' | 'branch' | 'preuploading' | 'uploadingLargeFiles' | 'committing';

const HF_TOKEN_PREFIX = 'hf_';

async function readToken(options: PushOptions, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (options.token !== undefined) return options.token.trim() || undefined;
  if (options.tokenFile !== undefined) {
    let text: string;
    try {
      text = await readFile(options.tokenFile, 'utf8');
    } catch (err) {
      throw new PushError('no-token', options.repo, `${options.tokenFile}: cannot read the token file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const token = text.split(/\r?\n/)[0]?.trim();
    if (!token) throw new PushError('no-token', options.repo, `${options.tokenFile}: the token file is empty`);
    return token;
  }
  return hubToken(env);
}

function checkRevision(repo: string, revision: string): void {
  const parts = revision.split('/');
  if (!revision || revision.includes('\\') || /\s/.test(revision) || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new PushError('bad-repo', repo, `"${revision}" is not a branch name (--revision)`);
  }
}

/** The hub's own words from a HubApiError, short, never its URL (an LFS upload URL carries a signature). */
function serverSays(err: HubApiError): string {
  const data = err.data as { error?: unknown; message?: unknown } | undefined;
  const text = typeof data?.error === 'string' ? data.error : typeof data?.message === 'string' ? data.message : '';
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** The library's HubApiError: an answer from the hub with a status (checked by shape, so the library loads only when a push runs). */
function isApiError(err: unknown): err is HubApiError {
  return err instanceof Error && typeof (err as Partial<HubApiError>).statusCode === 'number';
}

function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError && (err.message === 'fetch failed' || (err as { cause?: unknown }).cause !== undefined);
}

/**
 * Uploads the model in `modelDir` to the hub repository `options.repo`,
 * creating the repository when it does not exist, in one commit. Resolves to
 * where it went; rejects with a PushError.
 */
export async function pushToHub(modelDir: string, options: PushOptions): Promise<PushResult> {
  const env = options.env ?? process.env;
  let token: string | undefined;
  try {
    token = await readToken(options, env);
    return await push(modelDir, options, env, token);
  } catch (err) {
    const error =
      err instanceof PushError ? err : new PushError('bad-response', options.repo, `${options.repo}: the push failed: ${(err as Error)?.message ?? String(err)}`);
    // Belt and braces: nothing above puts the token in a message, and nothing may.
    if (token && error.message.includes(token)) error.message = error.message.split(token).join('***');
    throw error;
  }
}

async function push(modelDir: string, options: PushOptions, env: NodeJS.ProcessEnv, token: string | undefined): Promise<PushResult> {
  const endpoint = (options.endpoint ?? hubEndpoint(env)).replace(/\/+$/, '');
  const revision = options.revision ?? 'main';
  let repo = options.repo;
  if (!isRepoId(repo)) {
    throw new PushError('bad-repo', repo, `"${repo}" is not a hub repository id: --repo takes USER/NAME (letters, digits, "-", "_", "."), e.g. alice/alice-bot`);
  }
  checkRevision(repo, revision);
  const selection = await selectFilesToPush(modelDir, options.includeRun ?? true);

  if (!token) throw new PushError('no-token', repo, `pushing to the hub needs an access token: ${WRITE_TOKEN_HINT(endpoint)}`);
  if (!token.startsWith(HF_TOKEN_PREFIX)) {
    throw new PushError('no-token', repo, `the token given is not a Hugging Face access token (those start with "${HF_TOKEN_PREFIX}"): ${WRITE_TOKEN_HINT(endpoint)}`);
  }

  // Loaded here, not at the top: every other command starts without it.
  const { commitIter, createBranch, createRepo, whoAmI } = await import('@huggingface/hub');
  let stage: Stage = 'whoami';
  const uploaded: string[] = [];
  const baseFetch = options.fetch ?? globalThis.fetch;
  const hub = { hubUrl: endpoint, accessToken: token, fetch: baseFetch };

  let createRefused = false;
  let account: { name: string; orgs: string[] } | undefined;

  try {
    const me = await whoAmI(hub);
    if (me.auth?.accessToken?.role === 'read') {
      throw new PushError('read-only-token', repo, `the token given (${me.auth.accessToken.displayName ?? 'unnamed'}) may only read; ${WRITE_TOKEN_HINT(endpoint)}`);
    }
    account = { name: me.name, orgs: 'orgs' in me && Array.isArray(me.orgs) ? me.orgs.map((o) => o.name) : [] };
    if (!repo.includes('/')) repo = `${me.name}/${repo}`;

    const repoId = { type: 'model' as const, name: repo };
    const url = `${endpoint}/${repo}`;
    stage = 'create';
    let created = false;
    try {
      await createRepo({ ...hub, repo: repoId, ...(options.private !== undefined && { visibility: options.private ? 'private' : 'public' }) });
      created = true;
    } catch (err) {
      if (isApiError(err) && err.statusCode === 409) created = false;
      // Like huggingface_hub's create_repo(exist_ok=True): a 403 here may still be a repository
      // we can write to (an organisation's member who may not create); the commit will tell.
      else if (isApiError(err) && err.statusCode === 403) createRefused = true;
      else throw err;
    }
    options.progress?.({ type: 'repo', repo, url, created });

    if (revision !== 'main') {
      stage = 'branch';
      // With overwrite and no starting point, an existing branch is left as it is.
      await createBranch({ ...hub, repo: repoId, branch: revision, overwrite: true });
    }

    stage = 'preuploading';
    const operations: CommitOperation[] = selection.files.map((file) => ({
      operation: 'addOrUpdate',
      path: file.path,
      // A file: URL makes the library read the file lazily (its FileBlob), not into memory.
      content: pathToFileURL(resolve(file.source)),
    }));
    const commits = commitIter({
      ...hub,
      repo: repoId,
      operations,
      title: options.message ?? `Upload ${basename(resolve(modelDir))} with tweetsmith`,
      branch: revision,
    });
    let step = await commits.next();
    while (!step.done) {
      const event = step.value;
      if (event.event === 'phase') {
        stage = event.phase;
        options.progress?.({ type: 'phase', phase: event.phase });
      } else if (event.state !== 'error') {
        if (event.state === 'uploading' && event.progress === 1 && stage === 'uploadingLargeFiles') uploaded.push(event.path);
        options.progress?.({ type: 'file', path: event.path, state: event.state, progress: event.progress });
      }
      step = await commits.next();
    }
    const output = step.value as CommitOutput;
    return {
      repo,
      url,
      revision,
      created,
      commit: { oid: output.commit.oid, url: output.commit.url },
      files: selection.files.map(({ path, size }: FileToPush) => ({ path, size })),
      leftOut: selection.leftOut,
    };
  } catch (err) {
    throw err instanceof PushError ? err : failure(err, { repo, endpoint, stage, uploaded, createRefused, account });
  }
}

interface FailureContext {
  repo: string;
  endpoint: string;
  stage: Stage;
  uploaded: string[];
  createRefused: boolean;
  account?: { name: string; orgs: string[] };
}

const RERUN_IS_SAFE =
  'Running the same command again is safe: the hub keeps large files that arrived and does not take them twice, ' +
  'and a commit changes the repository only when it completes';

/** A library error, or fetch's, as a PushError that says what happened and what to do. */
function failure(err: unknown, ctx: FailureContext): PushError {
  const { repo, endpoint, stage } = ctx;
  if (isNetworkError(err)) {
    const why = describeNetworkError(err);
    if (stage === 'whoami') return new PushError('unreachable', repo, `cannot reach ${endpoint} (${why}); nothing was uploaded. Check the connection (and HF_ENDPOINT), then run again`);
    if (stage === 'create' || stage === 'branch' || stage === 'preuploading') {
      return new PushError('connection-cut', repo, `${repo}: the connection to ${endpoint} broke before any file was sent (${why}); nothing was uploaded. ${RERUN_IS_SAFE}`);
    }
    if (stage === 'uploadingLargeFiles') {
      const done = ctx.uploaded.length > 0 ? `${ctx.uploaded.join(', ')} had arrived (stored on the hub, not yet committed)` : 'no file had finished uploading';
      return new PushError('connection-cut', repo, `${repo}: the connection to ${endpoint} broke while uploading the large files (${why}): ${done}; nothing was committed, so ${repo} is as it was. ${RERUN_IS_SAFE}`);
    }
    return new PushError(
      'connection-cut',
      repo,
      `${repo}: the connection to ${endpoint} broke while the hub was committing the files (${why}): the large files had arrived, and the commit may or may not have been made (look at ${endpoint}/${repo}/commits). ${RERUN_IS_SAFE}`,
    );
  }
  if (isApiError(err)) {
    const status = err.statusCode;
    const says = serverSays(err);
    const server = says ? ` (the hub said: ${says})` : '';
    const who = ctx.account ? `the token's account, ${ctx.account.name}${ctx.account.orgs.length > 0 ? ` (organisations: ${ctx.account.orgs.join(', ')})` : ''}` : 'the token';
    const namespace = repo.split('/')[0];
    if (status === 401) {
      return new PushError('unauthorized', repo, `${repo}: the hub refused the token as invalid or expired${server}; ${WRITE_TOKEN_HINT(endpoint)}`, status);
    }
    if (status === 403) {
      return new PushError(
        'forbidden',
        repo,
        `${repo} belongs to someone else: ${who} may not write to it${server}. Push to a repository of your own (--repo ${ctx.account?.name ?? 'YOURNAME'}/${repo.split('/')[1]}), or ask its owner for write access`,
        status,
      );
    }
    if (status === 404 && ctx.createRefused) {
      return new PushError(
        'forbidden',
        repo,
        `${repo}: the namespace "${namespace}" belongs to someone else: ${who} may not create repositories there${server}. Use --repo ${ctx.account?.name ?? 'YOURNAME'}/${repo.split('/')[1]}`,
        status,
      );
    }
    if (status === 404 && ctx.stage === 'branch') {
      return new PushError('bad-response', repo, `${repo}: the hub would not create the branch${server}`, status);
    }
    return new PushError('bad-response', repo, `${repo}: ${endpoint} answered ${status} while ${STAGE_WORDS[stage]}${server}; nothing was committed. ${RERUN_IS_SAFE}`, status);
  }
  return new PushError('bad-response', repo, `${repo}: the push failed while ${STAGE_WORDS[stage]}: ${(err as Error)?.message ?? String(err)}`);
}

const STAGE_WORDS: Record<Stage, string> = {
  whoami: 'checking the token',
  create: 'creating the repository',
  branch: 'creating the branch',
  preuploading: 'preparing the upload',
  uploadingLargeFiles: 'uploading the large files',
  committing: 'committing',
};
