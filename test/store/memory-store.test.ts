import { createMemoryStore } from '../../store/index.js';
import { storeContract } from './store.contract.js';

storeContract('memory', (env) => createMemoryStore({ leaseEnvironment: env }));
