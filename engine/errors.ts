import { ExpctlError } from '../util/errors.js';
import type { StateValue } from '../store/types.js';
import { stateName } from './snapshot.js';

/** I4: replaying the log through the current machine does not give the recorded state. */
export class ReplayDivergenceError extends ExpctlError {
  constructor(
    readonly stream: string,
    readonly version: number,
    readonly seq: number,
    readonly expectedState: StateValue,
    readonly actualState: StateValue,
    readonly diff: string[],
  ) {
    super(
      'EXPCTL_REPLAY_DIVERGED',
      `replay diverged at stream ${stream}, version ${version} (seq ${seq}): the log records state ` +
        `${stateName(expectedState)}, the machine now gives ${stateName(actualState)}` +
        (diff.length > 0 ? `\n  ${diff.join('\n  ')}` : ''),
      `the machine definition changed incompatibly; use the expctl version that wrote this log, ` +
        `or branch from the last compatible row with \`expctl fork <id> --at ${seq - 1}\``,
    );
  }
}

/** The log's structure is broken: a stream that does not start with actor.created, or a version gap. */
export class MalformedStreamError extends ExpctlError {
  constructor(readonly stream: string, readonly seq: number, problem: string) {
    super('EXPCTL_MALFORMED_STREAM', `stream ${stream} is malformed at seq ${seq}: ${problem}`, 'run `expctl verify` to find the first bad row');
  }
}
