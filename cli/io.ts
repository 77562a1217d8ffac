/** Where a command writes: injected so tests capture output. Only cli/ writes to the terminal. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stdout is a terminal: progress may redraw in place. */
  isTTY: boolean;
  /** NO_COLOR unset and a terminal. */
  color: boolean;
  /** The terminal's width now (it may change while a run draws). */
  columns?(): number;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /**
   * From now on a closed output (`expctl run … | head -1`) stops only the
   * printing, not the command: an experiment being driven goes on.
   */
  keepGoingWhenClosed?(): void;
}

export function processIo(): Io {
  const isTTY = Boolean(process.stdout.isTTY);
  const closed = { stdout: false, stderr: false };
  let keepGoing = false;
  // `expctl history … | head` closes the pipe early: that is not an error; a reading command stops, a driving one goes on silently
  const onError = (stream: 'stdout' | 'stderr') => (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed[stream] = true;
    if (!keepGoing) process.exit(0);
  };
  process.stdout.on('error', onError('stdout'));
  process.stderr.on('error', onError('stderr'));
  return {
    out: (text) => void (closed.stdout || process.stdout.write(text)),
    err: (text) => void (closed.stderr || process.stderr.write(text)),
    isTTY,
    color: isTTY && !process.env.NO_COLOR,
    columns: () => process.stdout.columns || 80,
    cwd: process.cwd(),
    env: process.env,
    keepGoingWhenClosed: () => {
      keepGoing = true;
    },
  };
}

export function paint(io: Io, code: number, text: string): string {
  return io.color ? `\u001b[${code}m${text}\u001b[0m` : text;
}
