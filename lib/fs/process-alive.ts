// Whether the process that left something behind (a staging folder, a lock) still
// runs on this machine: signal 0 checks without sending anything. EPERM means it
// runs under another user, so it is alive too.
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
