import type { EventOf, LifecycleEvent, Operator } from '../../schemas/events.js';

export const operator: Operator = { user: 'tester', host: 'test-host', pid: 4242, version: '0.0.0-test' };

export const completed = (effect: string, attempt = 1, output: unknown = null): EventOf<'effect.completed'> => ({
  type: 'effect.completed',
  data: { effect, attempt, output },
});

export const failed = (
  effect: string,
  attempt = 1,
  options: { retryable?: boolean; retryAt?: number; message?: string } = {},
): EventOf<'effect.failed'> => ({
  type: 'effect.failed',
  data: {
    effect,
    attempt,
    error: { message: options.message ?? `${effect} failed` },
    retryable: options.retryable ?? false,
    ...(options.retryAt !== undefined ? { rateLimit: { retryAt: options.retryAt } } : {}),
  },
});

export const timerElapsed = (timer = 'retryAfter', at = 0): EventOf<'timer.elapsed'> => ({ type: 'timer.elapsed', data: { timer, at } });

export const resumed = (): EventOf<'operator.resumed'> => ({ type: 'operator.resumed', data: { operator } });

export const interrupted = (signal = 'SIGINT'): EventOf<'operator.interrupted'> => ({ type: 'operator.interrupted', data: { operator, signal } });

type Kind = 'run' | 'subtest' | 'tier';

export const finished = (kind: Kind, child: string, outcome: 'completed' | 'failed' = 'completed') =>
  ({ type: `${kind}.finished`, data: { child, outcome } }) as LifecycleEvent;

export const retried = (kind: Kind, child: string) => ({ type: `${kind}.retried`, data: { child } }) as LifecycleEvent;

export const reset = (to: string): EventOf<'operator.reset'> => ({ type: 'operator.reset', data: { to, operator } });
