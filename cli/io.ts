/** Where a command writes: injected so tests capture output. Only cli/ writes to the terminal. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stdout is a terminal: progress may redraw in place. */
  isTTY: boolean;
  /** NO_COLOR unset and a terminal. */
  color: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export function processIo(): Io {
  const isTTY = Boolean(process.stdout.isTTY);
  // `expctl history … | head` closes the pipe early: that is not an error
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    isTTY,
    color: isTTY && !process.env.NO_COLOR,
    cwd: process.cwd(),
    env: process.env,
  };
}

export function paint(io: Io, code: number, text: string): string {
  return io.color ? `\u001b[${code}m${text}\u001b[0m` : text;
}
