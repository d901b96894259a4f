// Measuring on a shared machine: how many cores other processes kept busy while a figure was
// taken, from /proc/stat's busy time minus this process's own CPU time and that of the children
// it waited for (/proc/self/stat utime, stime, cutime, cstime). Before each figure the bench waits
// for the others to go quiet, and a figure taken while they were not is taken again (OpenMP
// threads waiting for a core someone else holds make a 2-thread step 2–50× slower: such a figure
// says nothing about either implementation). Linux only; elsewhere nothing is waited for.
import { readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ on Linux

interface Snapshot {
  t: number;
  busyTicks: number;
  ownTicks: number;
}

function snapshot(): Snapshot | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const busyTicks = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] ?? 0);
    const self = readFileSync('/proc/self/stat', 'utf8');
    const f = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
    // fields 14-17 of proc(5) (utime stime cutime cstime) are 11-14 after the command name
    const ownTicks = f[11] + f[12] + f[13] + f[14];
    return { t: performance.now(), busyTicks, ownTicks };
  } catch {
    return null;
  }
}

/** Cores other processes used on average between two snapshots. */
function othersBetween(a: Snapshot, b: Snapshot): number {
  const seconds = (b.t - a.t) / 1000;
  if (seconds <= 0) return 0;
  return Math.max(0, (b.busyTicks - a.busyTicks - (b.ownTicks - a.ownTicks)) / TICKS_PER_S / seconds);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface QuietOptions {
  /** Cores other processes may use while a figure is taken (default 0.15). */
  limit: number;
  /** Longest wait for quiet before one attempt, seconds. */
  maxWaitS: number;
  /** Attempts before the figure is kept whatever the others did. */
  attempts: number;
  log: (line: string) => void;
}

export interface Quietly<T> {
  value: T;
  /** Cores other processes used on average during the measurement that was kept. */
  othersCores: number;
  attempts: number;
}

/** Waits until other processes use at most `limit` cores over a 3-second window (or `maxWaitS` passed). */
export async function waitQuiet(o: QuietOptions): Promise<number> {
  const start = performance.now();
  let announced = false;
  for (;;) {
    const a = snapshot();
    await sleep(3000);
    const b = snapshot();
    if (!a || !b) return 0;
    const others = othersBetween(a, b);
    if (others <= o.limit || (performance.now() - start) / 1000 > o.maxWaitS) return others;
    if (!announced) o.log(`  waiting for the machine to go quiet (other processes use ${others.toFixed(2)} cores)`);
    announced = true;
  }
}

/** Runs `measure` when the machine is quiet; again (up to `attempts`) when others were busy meanwhile. */
export async function measureQuietly<T>(measure: () => T, o: QuietOptions | null): Promise<Quietly<T>> {
  if (!o) return { value: measure(), othersCores: 0, attempts: 1 };
  for (let attempt = 1; ; attempt++) {
    await waitQuiet(o);
    const a = snapshot();
    const value = measure();
    const b = snapshot();
    const othersCores = a && b ? othersBetween(a, b) : 0;
    if (othersCores <= o.limit || attempt >= o.attempts) return { value, othersCores: Number(othersCores.toFixed(3)), attempts: attempt };
    o.log(`  other processes used ${othersCores.toFixed(2)} cores meanwhile: measuring again`);
  }
}
