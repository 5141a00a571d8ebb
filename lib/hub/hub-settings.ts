// Where the hub and its cache are, read from the same environment variables,
// with the same precedence and defaults, as Python's huggingface_hub
// (constants.py), so that tweetsmith and transformers share one cache.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** `~` and `~/…` as Python's os.path.expanduser reads them, against the given environment's HOME. */
function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path !== '~' && !path.startsWith('~/')) return path;
  const home = env.HOME || env.USERPROFILE || homedir();
  return join(home, path.slice(1));
}

/** An environment variable, with "" treated as unset (as a shell's `VAR= cmd` means). */
function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface. */
export function hfHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = envValue(env, 'HF_HOME');
  if (home) return expandHome(home, env);
  return join(expandHome(envValue(env, 'XDG_CACHE_HOME') ?? '~/.cache', env), 'huggingface');
}

/** The hub cache: HF_HUB_CACHE (or its older name HUGGINGFACE_HUB_CACHE), else $HF_HOME/hub. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = envValue(env, 'HF_HUB_CACHE') ?? envValue(env, 'HUGGINGFACE_HUB_CACHE');
  return cache ? expandHome(cache, env) : join(hfHome(env), 'hub');
}

/** HF_ENDPOINT without a trailing slash, else https://huggingface.co. */
export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (envValue(env, 'HF_ENDPOINT') ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
}

/**
 * HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN), else the file that
 * `huggingface-cli login` writes ($HF_TOKEN_PATH, default $HF_HOME/token).
 * The token is a secret: callers send it in one header and nowhere else.
 */
export function hubToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = envValue(env, 'HF_TOKEN') ?? envValue(env, 'HUGGING_FACE_HUB_TOKEN');
  if (fromEnv) return fromEnv.trim() || undefined;
  const file = expandHome(envValue(env, 'HF_TOKEN_PATH') ?? join(hfHome(env), 'token'), env);
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Python's `_is_true`: 1/ON/YES/TRUE in any case. */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.trim().toUpperCase());
}

/** HF_HUB_OFFLINE, or TRANSFORMERS_OFFLINE which huggingface_hub honours too. */
export function hubOffline(env: NodeJS.ProcessEnv = process.env): boolean {
  return isTrue(envValue(env, 'HF_HUB_OFFLINE') ?? envValue(env, 'TRANSFORMERS_OFFLINE'));
}

/** Seconds from an environment variable, else the default (huggingface_hub's are 10 s for both). */
export function envSeconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(envValue(env, name));
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
