// npm run bench: each line compares expctl with a baseline measured in the same process.
import { appendBench } from './append.bench.js';
import { executorBench } from './executor.bench.js';
import { replayBench } from './replay.bench.js';
import { startupBench } from './startup.bench.js';

console.log(`expctl bench — node ${process.version}, ${new Date().toISOString()}`);
for (const bench of [appendBench, replayBench, startupBench]) for (const result of bench()) console.log(result);
for (const result of await executorBench()) console.log(result);
