import { storeContract } from './store.contract.js';
import { memoryLog } from '../support/stores.js';

storeContract('memory', (env) => memoryLog({ leaseEnvironment: env }));
