export type ProblemKind = 'chain' | 'hash' | 'decode' | 'replay' | 'stream' | 'head' | 'snapshot' | 'checkpoint' | 'machine';

/** The first thing wrong with a log, located by row where there is one. */
export interface VerifyProblem {
  kind: ProblemKind;
  seq: number | null;
  stream: string | null;
  version: number | null;
  message: string;
}
