import { hostname, userInfo } from 'node:os';
import type { Operator } from '../schemas/events.js';
import { expctlVersion } from '../util/version.js';

/** Who is acting: recorded on every operator action (resume, interrupt, takeover). */
export function currentOperator(reason?: string): Operator {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return { user, host: hostname(), pid: process.pid, version: expctlVersion(), ...(reason ? { reason } : {}) };
}
