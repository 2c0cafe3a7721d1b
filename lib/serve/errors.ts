// The errors serving code raises under load, as classes with a stable `code`, so that a server
// can map them to a status (503 for a full queue) without matching messages.

/** A batcher's or worker pool's queue holds maxQueue waiting requests: back-pressure, retry later. */
export class QueueFullError extends Error {
  readonly code = 'ERR_CONVKIT_QUEUE_FULL';
  constructor(readonly maxQueue: number, what = 'batcher') {
    super(`${what}: the queue is full (${maxQueue} requests waiting); retry later, or raise maxQueue`);
    this.name = 'QueueFullError';
  }
}

/** The batcher or pool was closed: it takes no new requests (those already taken still finish). */
export class ClosedError extends Error {
  readonly code = 'ERR_CONVKIT_CLOSED';
  constructor(what: string) {
    super(`${what}: closed, it takes no new requests`);
    this.name = 'ClosedError';
  }
}
