// The headers and time limits every request to the hub carries.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import type { HubClient } from './file-metadata.js';
import { envSeconds } from './hub-settings.js';

function userAgent(): string {
  let version = 'unknown';
  try {
    version = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version;
  } catch {
    // A user agent without a version is still a user agent.
  }
  return `tweetsmith/${version}; node/${process.versions.node}`;
}

export function makeHubClient(options: { fetch?: typeof fetch; token?: string; env: NodeJS.ProcessEnv }): HubClient {
  const headers: Record<string, string> = {
    'user-agent': userAgent(),
    // Sizes are checked byte for byte: no compression may come between the file and its Content-Length.
    'accept-encoding': 'identity',
  };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return {
    fetch: options.fetch ?? globalThis.fetch,
    headers,
    // huggingface_hub's HF_HUB_ETAG_TIMEOUT and HF_HUB_DOWNLOAD_TIMEOUT, 10 s each by default.
    headTimeoutMs: envSeconds(options.env, 'HF_HUB_ETAG_TIMEOUT', 10) * 1000,
    downloadTimeoutMs: envSeconds(options.env, 'HF_HUB_DOWNLOAD_TIMEOUT', 10) * 1000,
  };
}
