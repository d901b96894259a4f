// Peak resident memory of this process (the bench's children report their own).
import { readFileSync } from 'node:fs';

/**
 * Peak RSS of this process in bytes: VmHWM of /proc/self/status (Linux), else
 * process.resourceUsage().maxRSS. On Linux maxRSS is no good in a spawned child: exec records the
 * forked copy of the parent's address space, so it starts at the parent's peak.
 */
export function peakRss(): { bytes: number; source: 'VmHWM' | 'maxRSS' } {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return { bytes: Number(m[1]) * 1024, source: 'VmHWM' };
  } catch {
    /* not Linux */
  }
  return { bytes: process.resourceUsage().maxRSS * 1024, source: 'maxRSS' };
}
