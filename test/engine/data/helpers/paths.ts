// Where the tests find ../shared (the repository root's parent + 'shared') and make scratch files.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '../../../..');
export const SHARED = resolve(REPO_ROOT, '..', 'shared');
export const SHARED_DATA = join(SHARED, 'data');

/** `skip` option for node:test: a reason when ../shared/data is absent, else false. */
export function needsShared(): string | false {
  return existsSync(SHARED_DATA) ? false : `../shared/data not found at ${SHARED_DATA}: shared datasets are absent`;
}

/** A scratch directory removed by `cleanup()`. */
export function scratch(prefix = 'peft-data-'): { dir: string; file(name: string, content: string | Uint8Array): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file(name, content) {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
