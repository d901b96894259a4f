// Per-module ranks and alphas of Python peft's LORA configs (`rank_pattern`, `alpha_pattern`: what
// merges, AdaLoRA exports and hand-tuned configs write). Reading follows peft 0.13.2 exactly: for
// a module path P the first key k of rank_pattern then alpha_pattern with `.*\.k$` matching P
// names the entry used for BOTH lookups (else P itself), defaulting to r and lora_alpha. Writing
// keeps the most common (r, alpha) as the defaults and lists every other module under its full
// path, which 0.13.2 finds through that fallback and later versions match directly.
import type { SiteInfo } from '../../backbones/types.js';
import { PeftError } from '../../../errors.js';

export interface RankAlpha {
  r: number;
  alpha: number;
}

function patternOf(cfg: Record<string, unknown>, key: 'rank_pattern' | 'alpha_pattern'): Record<string, number> {
  const v = cfg[key];
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new PeftError('FORMAT', `${key} must be an object of module name → number`, { where: `adapter_config.json: ${key}` });
  }
  for (const [k, n] of Object.entries(v)) {
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || (key === 'rank_pattern' && !Number.isInteger(n))) {
      throw new PeftError('FORMAT', `${key}.${k} is ${JSON.stringify(n)}, not a positive ${key === 'rank_pattern' ? 'integer' : 'number'}`, {
        where: `adapter_config.json: ${key}`,
      });
    }
  }
  return v as Record<string, number>;
}

/** Whether a config has per-module ranks or alphas. */
export function hasPatterns(cfg: Record<string, unknown>): boolean {
  return Object.keys(patternOf(cfg, 'rank_pattern')).length + Object.keys(patternOf(cfg, 'alpha_pattern')).length > 0;
}

/** The (r, alpha) of one module path under a config's patterns (peft 0.13.2's lookup). */
export function rankAlphaOf(cfg: Record<string, unknown>, path: string, defaults: RankAlpha): RankAlpha {
  const ranks = patternOf(cfg, 'rank_pattern');
  const alphas = patternOf(cfg, 'alpha_pattern');
  const keys = [...Object.keys(ranks), ...Object.keys(alphas)];
  let key = path;
  for (const k of keys) {
    let re: RegExp;
    try {
      re = new RegExp(`^.*\\.${k}$`);
    } catch {
      throw new PeftError('FORMAT', `pattern key ${JSON.stringify(k)} is not a regular expression`, { where: 'adapter_config.json: rank_pattern / alpha_pattern' });
    }
    if (re.test(path)) {
      key = k;
      break;
    }
  }
  return { r: ranks[key] ?? defaults.r, alpha: alphas[key] ?? defaults.alpha };
}

/** The most common (r, alpha) over the sites, and the patterns for the others (full paths). */
export function patternsFor(sites: readonly SiteInfo[], of: (s: SiteInfo) => RankAlpha): {
  r: number; alpha: number; rank_pattern: Record<string, number>; alpha_pattern: Record<string, number>;
} {
  const count = new Map<string, number>();
  for (const s of sites) {
    const k = JSON.stringify(of(s));
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  const [top] = [...count].sort((a, b) => b[1] - a[1]);
  const main = JSON.parse(top[0]) as RankAlpha;
  const rank_pattern: Record<string, number> = {};
  const alpha_pattern: Record<string, number> = {};
  for (const s of sites) {
    const ra = of(s);
    if (ra.r !== main.r) rank_pattern[s.path] = ra.r;
    if (ra.alpha !== main.alpha) alpha_pattern[s.path] = ra.alpha;
  }
  return { r: main.r, alpha: main.alpha, rank_pattern, alpha_pattern };
}
