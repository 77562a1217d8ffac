import { describe, expect, it } from 'vitest';
import { isHolderAlive } from '../../store/lease-policy.js';
import { ownIdentity } from '../../util/procfs.js';

describe('lease holders told apart beyond their pid', () => {
  const me = ownIdentity();

  it('knows this process by its pid, start time, PID namespace and boot', () => {
    expect(me.startTicks).toBeGreaterThan(0);
    expect(me.pidNs).toMatch(/^pid:\[\d+\]$/);
    expect(me.bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(isHolderAlive(process.pid, me)).toBe(true);
    // a lease written before identities were recorded: the pid alone
    expect(isHolderAlive(process.pid, null)).toBe(true);
  });

  it('calls a holder dead when its pid now belongs to a process started at another time, or it ran in another boot', () => {
    expect(isHolderAlive(process.pid, { ...me, startTicks: me.startTicks! + 1 })).toBe(false);
    expect(isHolderAlive(process.pid, { ...me, bootId: '00000000-0000-0000-0000-000000000000' })).toBe(false);
  });

  it('calls a holder in a PID namespace that no longer exists dead, seen from the initial namespace', () => {
    // pid 1 runs here (init), but it is not the holder: the holder's namespace is gone
    const verdict = isHolderAlive(1, { ...me, pidNs: 'pid:[1]' });
    expect(verdict).toBe(me.pidNs === 'pid:[4026531836]' ? false : null);
  });
});
