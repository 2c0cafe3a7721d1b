// The worker pool's entry when convkit runs from its TypeScript source (tests, tsx): registers
// tsx's loader in this thread, which a worker's execArgv cannot do on Node 20, then loads the
// worker itself. Built packages use dist/serve/pool-worker.js directly.
import { register } from 'tsx/esm/api';

register();
const worker = await import('./pool-worker.ts');
export default worker.default;
