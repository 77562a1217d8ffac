// Regenerates schemas/experiment.schema.json (npm run schema); a test keeps it in sync.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { experimentJsonSchemaText } from '../schemas/json-schema.js';

const file = join(import.meta.dirname, '..', 'schemas', 'experiment.schema.json');
writeFileSync(file, experimentJsonSchemaText());
console.log(`wrote ${file}`);
