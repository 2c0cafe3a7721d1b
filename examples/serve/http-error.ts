// An error that carries the HTTP status to answer with; anything else is a 500.
export class HttpError extends Error {
  /** allow: the Allow header of a 405. */
  constructor(readonly status: number, message: string, readonly allow?: string) {
    super(message);
    this.name = 'HttpError';
  }
}
