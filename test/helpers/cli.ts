// Spawning the real CLI (bin/peft.js → dist/, built by `npm test`'s pretest).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './fixtures.js';

export const BIN = join(REPO, 'bin', 'peft.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function peftCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, FORCE_COLOR: '0', ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 600_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
