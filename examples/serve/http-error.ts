// An error that carries the HTTP status to answer with; anything else is a 500.
export class HttpError extends Error {
  /** allow: the Allow header of a 405. */
  constructor(readonly status: number, message: string, readonly allow?: string) {
    super(message);
    this.name = 'HttpError';
  }
}

/** An error from another thread keeps its status as a plain property: an HttpError again, or as it was. */
export function asHttpError(err: unknown): unknown {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && err instanceof Error ? new HttpError(status, err.message) : err;
}
