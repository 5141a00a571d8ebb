// What can go wrong between tweetsmith and the hub, each said so that the user
// knows what to do next. The hub's own X-Error-Code header tells apart a
// missing repository, revision or file, and a gated one; a 401 without a token
// is ambiguous on purpose (the hub does not reveal whether a private
// repository exists). No message ever holds the token.

export type HubErrorCode =
  | 'unreachable' // connection refused, DNS, timeout
  | 'unauthorized' // 401/403: private, or a bad token
  | 'gated' // the repository asks its users to accept terms
  | 'not-found' // no such repository, revision or required file
  | 'no-safetensors' // only pytorch_model.bin
  | 'not-cached' // offline, and the cache does not hold it
  | 'download-failed' // cut off, wrong size, wrong checksum
  | 'bad-response' // 5xx, or headers the hub always sends are missing
  | 'bad-model-name'; // neither a model directory nor a repo id

export class HubError extends Error {
  readonly code: HubErrorCode;
  /** The repository (as the user named it) or the path the problem is about. */
  readonly repo: string;

  constructor(code: HubErrorCode, repo: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HubError';
    this.code = code;
    this.repo = repo;
  }
}

export const OFFLINE_HINT =
  'To train without the network: pass a local model directory with --base DIR, or fill the cache on a connected machine and set HF_HUB_OFFLINE=1';

/** Why fetch() gave up, in a few words: the system error code and message, or the timeout. */
export function describeNetworkError(err: unknown): string {
  const error = err as Error & { cause?: { code?: string; message?: string } };
  if (error.name === 'TimeoutError') return 'no answer in time';
  const cause = error.cause;
  if (cause?.code && cause.message) return cause.message.includes(cause.code) ? cause.message : `${cause.code}: ${cause.message}`;
  return cause?.message ?? cause?.code ?? error.message;
}

export function unreachable(endpoint: string, repo: string, err: unknown): HubError {
  return new HubError('unreachable', repo, `${repo}: cannot reach ${endpoint} (${describeNetworkError(err)}). ${OFFLINE_HINT}`, {
    cause: err,
  });
}

export interface RequestContext {
  endpoint: string;
  repo: string;
  revision: string;
  file: string;
  hasToken: boolean;
}

const TOKEN_HINT = (endpoint: string) => `set HF_TOKEN to an access token that can read it (make one at ${endpoint}/settings/tokens)`;

/** A HubError for an answer that is not a success, a redirect, or a file the caller may do without. */
export function errorFromResponse(response: Response, ctx: RequestContext): HubError {
  const { endpoint, repo, revision, file, hasToken } = ctx;
  const code = response.headers.get('x-error-code');
  const serverMessage = response.headers.get('x-error-message') ?? '';
  const status = response.status;

  if (code === 'GatedRepo') {
    return new HubError(
      'gated',
      repo,
      `${repo} is gated: ${hasToken ? 'the token given has no access to it yet; ' : ''}accept its conditions at ${endpoint}/${repo} while logged in, then ${TOKEN_HINT(endpoint)}`,
    );
  }
  if (status === 401 && (serverMessage.includes('Invalid credentials') || (hasToken && code !== 'RepoNotFound'))) {
    return new HubError(
      'unauthorized',
      repo,
      `${repo}: the hub refused the token (from HF_TOKEN or the saved token file) as invalid or expired; ${TOKEN_HINT(endpoint)}`,
    );
  }
  if (status === 401 || status === 403) {
    // Without a token the hub answers 401 both for a private repository and for none at all.
    const maybe = hasToken ? 'the token given cannot read it' : 'or it is private or gated';
    return new HubError('unauthorized', repo, `no such model on the hub: ${repo}, ${maybe}. If you have access to it, ${TOKEN_HINT(endpoint)}`);
  }
  if (status === 404 && code === 'RevisionNotFound') {
    return new HubError('not-found', repo, `no such model on the hub: ${repo} has no revision "${revision}"`);
  }
  if (status === 404 && code === 'EntryNotFound') {
    return new HubError('not-found', repo, `no such model on the hub: ${repo} (revision "${revision}") has no ${file}`);
  }
  if (status === 404) return new HubError('not-found', repo, `no such model on the hub: ${repo}`);
  return new HubError(
    'bad-response',
    repo,
    `${repo}: ${endpoint} answered ${status}${response.statusText ? ` ${response.statusText}` : ''} for ${file}; try again later. ${OFFLINE_HINT}`,
  );
}
