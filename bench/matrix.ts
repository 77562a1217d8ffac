// npm run bench:matrix: engine overhead of a whole experiment against its commands' own run times.
import { matrixBench } from './matrix.bench.js';

console.log(`expctl matrix bench — node ${process.version}, ${new Date().toISOString()}`);
for (const line of await matrixBench()) console.log(line);
