import { join } from 'node:path';
import { openStore } from '../../store/index.js';
import { useTempDir } from '../support/temp.js';
import { storeContract } from './store.contract.js';

const tempDir = useTempDir();
storeContract('sqlite', (env) => openStore(join(tempDir(), 'expctl.db'), { leaseEnvironment: env }));
