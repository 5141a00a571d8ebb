// From what the user wrote after --base to a directory that holds a model: a
// local model directory as it is, or a hub repository's snapshot in the
// shared cache, downloaded or found there.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIG_FILE, TOKENIZER_FILES, WEIGHTS_FILE } from '../model/model-dir.js';
import { RepoCache } from './cache-layout.js';
import { cacheFile, requestContext, type CachedFile, type HubSession } from './cache-file.js';
import type { DownloadProgress } from './download-blob.js';
import { headFile } from './file-metadata.js';
import { makeHubClient } from './hub-client.js';
import { errorFromResponse, HubError, type HubErrorCode } from './hub-error.js';
import { hubCacheDir, hubEndpoint, hubOffline, hubToken } from './hub-settings.js';
import { isRepoId, isRevisionName, resolveUrl } from './repo-id.js';

export interface ResolveModelOptions {
  /** Branch, tag or commit; default "main". */
  revision?: string;
  /** Default: HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default: HF_TOKEN, else the file $HF_HOME/token. */
  token?: string;
  /** Default: HF_HUB_OFFLINE=1. */
  offline?: boolean;
  fetch?: typeof fetch;
  progress?: (event: DownloadProgress) => void;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export const REQUIRED_FILES = [CONFIG_FILE, WEIGHTS_FILE] as const;
export const OPTIONAL_FILES = ['generation_config.json', ...TOKENIZER_FILES] as const;

/** Failures after which, as in huggingface_hub, a copy already in the cache will do. */
const CACHE_FALLBACK: HubErrorCode[] = ['unreachable', 'bad-response', 'unauthorized', 'gated'];

/**
 * A local directory with config.json is returned as is. Otherwise `model` is a
 * hub repo id whose files are downloaded (or found in the cache); the returned
 * snapshot directory holds config.json, model.safetensors and whichever
 * tokenizer files the repository has.
 */
export async function resolveModel(model: string, options: ResolveModelOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const localDir = await localModelDir(model);
  if (localDir !== undefined) return localDir;

  const token = options.token ?? hubToken(env);
  try {
    return await resolveHubModel(model, options, env, token);
  } catch (err) {
    // Belt and braces: nothing above puts the token in a message, and nothing may,
    // not even in a cause (fetch's own errors come along as causes).
    if (token) {
      for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
        if (e.message.includes(token)) e.message = e.message.split(token).join('***');
        if (e.stack?.includes(token)) e.stack = e.stack.split(token).join('***');
      }
    }
    throw err;
  }
}

async function localModelDir(model: string): Promise<string | undefined> {
  const info = await stat(model).catch(() => undefined);
  if (info?.isDirectory()) {
    if (existsSync(join(model, 'config.json'))) return model;
    throw new HubError('bad-model-name', model, `${model} is a directory without config.json, so not a model directory`);
  }
  if (!isRepoId(model)) {
    throw new HubError(
      'bad-model-name',
      model,
      `${model}: no such model directory, and not a hub model id either (those look like openai-community/gpt2)`,
    );
  }
  return undefined;
}

function checkRevision(repo: string, revision: string): void {
  if (!isRevisionName(revision)) {
    throw new HubError('bad-model-name', repo, `${repo}: "${revision}" is not a revision (a branch, tag or commit id)`);
  }
}

async function resolveHubModel(repo: string, options: ResolveModelOptions, env: NodeJS.ProcessEnv, token: string | undefined): Promise<string> {
  const revision = options.revision ?? 'main';
  checkRevision(repo, revision);
  const cache = new RepoCache(options.cacheDir ?? hubCacheDir(env), repo);

  const offline = options.offline ?? hubOffline(env);
  if (offline) {
    const found = await cachedSnapshot(cache, revision);
    if (found.dir) return found.dir;
    const why = options.offline ? 'the offline option' : 'HF_HUB_OFFLINE';
    throw new HubError(
      'not-cached',
      repo,
      `${repo} (revision "${revision}") is not in the hub cache ${cache.cacheDir}, and offline mode is on (${why}): ` +
        `missing ${found.missing.join(', ')} in ${cache.root}. Fill the cache on a connected machine (run the same command there, ` +
        `or huggingface-cli download ${repo}) and copy that cache here, or pass a local model directory with --base DIR`,
    );
  }

  const session: HubSession = {
    endpoint: (options.endpoint ?? hubEndpoint(env)).replace(/\/+$/, ''),
    client: makeHubClient({ fetch: options.fetch, token, env }),
    hasToken: token !== undefined && token !== '',
    progress: options.progress,
  };

  let config: CachedFile;
  try {
    config = await cacheFile(cache, session, revision, 'config.json');
  } catch (err) {
    if (err instanceof HubError && CACHE_FALLBACK.includes(err.code)) {
      const found = await cachedSnapshot(cache, revision);
      if (found.dir) return found.dir;
    }
    throw err;
  }
  if (config.kind === 'absent') throw missingRequired(session, cache, revision, 'config.json', config);

  // Every other file is asked for at the commit config.json came from, so a
  // push to the branch halfway through cannot mix two versions in one snapshot.
  const commit = config.commit;
  const weights = await cacheFile(cache, session, commit, 'model.safetensors');
  if (weights.kind === 'absent') {
    if (await hasPytorchWeights(session, cache, commit)) {
      throw new HubError(
        'no-safetensors',
        repo,
        `${repo} has its weights only as pytorch_model.bin; tweetsmith reads model.safetensors. Convert it where PyTorch is installed: ` +
          `python -c "from transformers import AutoModelForCausalLM as M; M.from_pretrained('${repo}').save_pretrained('DIR', safe_serialization=True)" ` +
          `and pass --base DIR (DIR also needs the tokenizer files: AutoTokenizer.from_pretrained('${repo}').save_pretrained('DIR'))`,
      );
    }
    throw missingRequired(session, cache, commit, 'model.safetensors', weights);
  }
  for (const file of OPTIONAL_FILES) await cacheFile(cache, session, commit, file);
  return cache.snapshotDir(commit);
}

/** The snapshot the cache holds for a revision, when it has every required file; else what is missing. */
async function cachedSnapshot(cache: RepoCache, revision: string): Promise<{ dir?: string; missing: string[] }> {
  const commit = await cache.commitFor(revision);
  if (!commit) return { missing: [`refs/${revision}`] };
  const missing = REQUIRED_FILES.filter((file) => !cache.hasFile(commit, file)).map((file) => `snapshots/${commit}/${file}`);
  return missing.length > 0 ? { missing } : { dir: cache.snapshotDir(commit), missing };
}

function missingRequired(session: HubSession, cache: RepoCache, revision: string, file: string, absent: CachedFile): HubError {
  const ctx = requestContext(session, cache, revision, file);
  if (absent.kind === 'absent' && absent.response) return errorFromResponse(absent.response, ctx);
  return new HubError('not-found', cache.repo, `no such model on the hub: ${cache.repo} (revision "${revision}") has no ${file}`);
}

async function hasPytorchWeights(session: HubSession, cache: RepoCache, commit: string): Promise<boolean> {
  const file = 'pytorch_model.bin';
  const ctx = requestContext(session, cache, commit, file);
  const head = await headFile(resolveUrl(session.endpoint, cache.repo, commit, file), session.client, ctx);
  return head.kind === 'found';
}
