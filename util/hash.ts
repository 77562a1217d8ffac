import { hash } from 'node:crypto';

/** Lower-case hex SHA-256 of a UTF-8 string (one-shot: no Hash object per call, it runs for every row). */
export function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}
