// What can go wrong when a model goes up to the hub, each said so that the
// user knows what to do next. @huggingface/hub's own errors (HubApiError,
// fetch's TypeError) are turned into these and never kept as a `cause`: the
// library's error objects hold URLs, server data and request ids, and a
// message of ours must be safe to print and log whatever the library puts
// there. The token is in none of them.

export type PushErrorCode =
  | 'bad-model' // MODEL is not a model folder we can publish
  | 'bad-repo' // --repo is not a hub repository id
  | 'no-token' // no token anywhere, or an unusable one
  | 'unauthorized' // 401: the hub refused the token
  | 'read-only-token' // the token may only read
  | 'forbidden' // 403: the namespace or the repository belongs to someone else
  | 'unreachable' // no connection at all
  | 'connection-cut' // the connection broke during the upload
  | 'bad-response'; // any other answer the hub should not have given

export class PushError extends Error {
  readonly code: PushErrorCode;
  /** The repository (as the user named it) or the model folder the problem is about. */
  readonly repo: string;
  /** The HTTP status the hub answered with, when it answered. */
  readonly status?: number;

  constructor(code: PushErrorCode, repo: string, message: string, status?: number) {
    super(message);
    this.name = 'PushError';
    this.code = code;
    this.repo = repo;
    if (status !== undefined) this.status = status;
  }
}

export const WRITE_TOKEN_HINT = (endpoint: string) =>
  `make a token with write access at ${endpoint}/settings/tokens and pass it in HF_TOKEN or with --token-file FILE`;
