// Where a backbone's config.json is: the directory itself, or for a Hugging Face hub cache folder
// (`models--org--name`) the snapshot refs/main names (or the only snapshot). File-system reads
// only; the planner reports the failure as a recipe issue, the engine throws it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type ModelDirLookup = { dir: string } | { error: string; hint: string };

export function findModelDir(path: string): ModelDirLookup {
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    return { error: `backbone directory not found: ${path}`, hint: 'backbone.path must name a Hugging Face model directory (relative paths are relative to the recipe)' };
  }
  if (existsSync(join(path, 'config.json'))) return { dir: path };
  const snapshots = join(path, 'snapshots');
  if (existsSync(snapshots) && statSync(snapshots).isDirectory()) {
    const ref = join(path, 'refs', 'main');
    const rev = existsSync(ref) ? readFileSync(ref, 'utf8').trim() : null;
    if (rev && existsSync(join(snapshots, rev, 'config.json'))) return { dir: join(snapshots, rev) };
    const revs = readdirSync(snapshots).filter((r) => existsSync(join(snapshots, r, 'config.json'))).sort();
    if (revs.length === 1) return { dir: join(snapshots, revs[0]) };
    if (revs.length > 1) {
      return {
        error: `hub cache folder ${path} has ${revs.length} snapshots and no refs/main naming one`,
        hint: `name one: ${revs.map((r) => join(path, 'snapshots', r)).join(', ')}`,
      };
    }
  }
  return { error: `no config.json in ${path}`, hint: 'a Hugging Face model directory has config.json next to its weights' };
}
