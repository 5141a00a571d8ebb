// An error the server answers with a status code of its choosing: 400 for a
// bad request, 404 for an unknown run or file, 409 for an action the run's
// state does not allow (resume a run that is done), 413 for an upload past the
// cap. The HTTP layer turns it into `{ error: message }` with `statusCode`;
// any other error is a 500 whose message the browser does not see in full.
// The message is written for the page's user: what is wrong and what to do.

export class ServeError extends Error {
  readonly statusCode: number;

  constructor(statusCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServeError';
    this.statusCode = statusCode;
  }
}
