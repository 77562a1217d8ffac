import { join } from 'node:path';
import { useTempDir } from '../support/temp.js';
import { storeContract } from './store.contract.js';
import { openLog } from '../support/stores.js';

const tempDir = useTempDir();
storeContract('sqlite', (env) => openLog(join(tempDir(), 'expctl.db'), { leaseEnvironment: env }));
