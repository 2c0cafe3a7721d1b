// Bounds how long one turn of the event loop runs request work. Under load, dozens of requests
// arrive in one turn; decoding them all at once held the loop for 10-15 ms (every timer, every
// new connection, /healthz waited that long). Work that awaits turn() first runs while the
// turn is younger than budgetMs; later work waits for the next turn (setImmediate), in arrival
// order, so timers and I/O get in between. It moves work, it does not add any.
export function createTickBudget(budgetMs: number): () => Promise<void> {
  let turnStart = -1; // when request work started in this turn of the loop; -1: not yet
  const endTurn = () => { turnStart = -1; };
  return async function turn(): Promise<void> {
    for (;;) {
      const now = performance.now();
      if (turnStart < 0) {
        turnStart = now;
        setImmediate(endTurn); // runs before the work deferred below, which then starts a new turn
        return;
      }
      if (now - turnStart < budgetMs) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
}
