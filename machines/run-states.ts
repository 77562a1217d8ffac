/*
 * The run states other layers name (a run's end, its wait out a rate limit),
 * in a module of their own with no imports, so even the viewer's page script
 * can use them.
 */

/** A run's completion state: judged and cleaned up (passed or not). */
export const RUN_COMPLETED = 'run_worktree_cleaned';
/** A run that failed (an effect failed for good). */
export const RUN_FAILED = 'run_failed';
/** A run waiting out a rate limit before its agent is retried. */
export const RUN_RATE_LIMITED = 'run_rate_limited';
