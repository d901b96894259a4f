// `peft inspect RUN_DIR|ADAPTER_DIR`: what an adapter directory holds, from its config and the
// safetensors header alone (no tensor data is read): its type and bytes, the tensors it stores,
// and for a selection the entries it trained in each weight (against the weight's size, from the
// base model's config.json when it can be found) and the tensors it trained whole.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors } from './io/safetensors.js';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from './adapters/peft/save.js';
import { buildBackbone } from './backbones/index.js';
import { PeftError } from '../errors.js';

export interface SelectedWeightReport {
  /** The backbone tensor (`model.layers.0.self_attn.q_proj.weight`). */
  weight: string;
  form: 'sparse' | 'lowrank' | 'whole';
  /** Entries stored for it (sparse: its selected entries; low-rank: the factors' size; whole: every entry). */
  stored: number;
  /** The weight's own size, when the base model's config was found. */
  total: number | null;
}

export interface AdapterReport {
  dir: string;
  type: string;
  /** Bytes of adapter_model.safetensors (and of adapter_config.json). */
  bytes: number;
  config_bytes: number;
  tensors: number;
  /** Stored values: every element of every tensor (indices included). */
  stored_values: number;
  selection: {
    criterion: string;
    seed: number | null;
    weights: SelectedWeightReport[];
    /** Entries trained one by one, summed over the weights. */
    entries: number;
  } | null;
}

/** The adapter directory of a run directory, or the directory itself. */
export function adapterDirOf(dir: string): string {
  if (existsSync(join(dir, ADAPTER_CONFIG))) return dir;
  if (existsSync(join(dir, 'adapter', ADAPTER_CONFIG))) return join(dir, 'adapter');
  throw new PeftError('FILE', `no ${ADAPTER_CONFIG} here or in adapter/`, { where: dir, hint: 'name a run directory or an adapter directory' });
}

/** Sizes of the base model's tensors by name (null when its directory is not here). */
function baseSizes(baseModel: unknown, task: unknown): Map<string, number> | null {
  if (typeof baseModel !== 'string' || !existsSync(join(baseModel, 'config.json'))) return null;
  try {
    const type = task === 'SEQ_CLS' ? 'seq-cls' : task === 'TOKEN_CLS' ? 'token-cls' : task === 'SEQ_2_SEQ_LM' ? 'seq2seq' : 'causal-lm';
    const { model } = buildBackbone(baseModel, { task: type, numLabels: 2 });
    return new Map(model.root.namedParams().map(([n, p]) => [n, p.size]));
  } catch {
    return null;
  }
}

export function inspectAdapter(target: string): AdapterReport {
  const dir = adapterDirOf(target);
  const cfg = JSON.parse(readFileSync(join(dir, ADAPTER_CONFIG), 'utf8')) as Record<string, unknown>;
  const weightsFile = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(weightsFile)) throw new PeftError('FILE', `no ${ADAPTER_WEIGHTS}`, { where: dir });
  const file = openSafetensors(weightsFile);
  const shapes = new Map(file.names().map((n) => [n, file.info(n).shape]));
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const report: AdapterReport = {
    dir, type: String(cfg.peft_type ?? ''), bytes: statSync(weightsFile).size, config_bytes: statSync(join(dir, ADAPTER_CONFIG)).size,
    tensors: shapes.size, stored_values: [...shapes.values()].reduce((n, s) => n + size(s), 0), selection: null,
  };
  const sel = cfg.selection as { criterion: string; seed?: number; slots: { site: string; tensor: string; form: string; count: number; rank?: number }[]; whole?: string[] } | undefined;
  if (sel) {
    const totals = baseSizes(cfg.base_model_name_or_path, cfg.task_type);
    const weights: SelectedWeightReport[] = [];
    for (const s of sel.slots) {
      const weight = `${s.site}.${s.tensor}`;
      const stored = s.form === 'lowrank'
        ? ['lora_A', 'lora_B'].reduce((n, part) => n + size(shapes.get(`base_model.model.${s.site}.select.${part}`) ?? [0]), 0)
        : s.count;
      weights.push({ weight, form: s.form === 'lowrank' ? 'lowrank' : 'sparse', stored, total: totals?.get(weight) ?? null });
    }
    for (const w of sel.whole ?? []) weights.push({ weight: w, form: 'whole', stored: totals?.get(w) ?? size(shapes.get(`base_model.model.${w}`) ?? [0]), total: totals?.get(w) ?? null });
    report.selection = {
      criterion: sel.criterion, seed: sel.seed ?? null, weights,
      entries: weights.filter((w) => w.form === 'sparse').reduce((n, w) => n + w.stored, 0),
    };
  }
  return report;
}
