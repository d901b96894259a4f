import { readAdapterUpdates, deltaOf } from './src/engine/merge/adapter-updates.ts';
import { combineAdapters } from './src/engine/merge/combine.ts';
import { openSafetensors } from './src/engine/io/safetensors.ts';
import { readFileSync } from 'node:fs';
const F = '../shared/fixtures/peft-0.13/llama-merge';
const a = readAdapterUpdates(`${F}/a`), b = readAdapterUpdates(`${F}/b`);
console.log([...a.modules.keys()], a.head.size, [...a.head.keys()]);
for (const m of ['linear','cat','svd','ties','ties_svd','magnitude_prune','dare_linear','dare_ties']) {
  const out = JSON.parse(readFileSync(`${F}/${m}/outputs.json`,'utf8'));
  const r = combineAdapters([a,b], { method: m as any, weights: out.weights, density: out.density ?? undefined });
  const t = new Map(r.tensors.map(x=>[x.name,x]));
  let worst = 0, worstT = 0;
  const want = openSafetensors(`${F}/${m}/adapter_model.safetensors`);
  for (const [p, dw] of Object.entries(out.delta_weights) as any) {
    const A = t.get(`base_model.model.${p}.lora_A.weight`)!, B = t.get(`base_model.model.${p}.lora_B.weight`)!;
    const rr = A.shape[0];
    const d = deltaOf({kind:'lora', A: A.data as Float32Array, B: B.data as Float32Array, r: rr, inDim: A.shape[1], outDim: B.shape[0], scale: 1});
    d.forEach((v,i)=> worst = Math.max(worst, Math.abs(v - dw.data[i]) / (1e-4*Math.abs(dw.data[i]) + 1e-5)));
    for (const n of ['lora_A','lora_B']) { const w = want.read(`base_model.model.${p}.${n}.weight`); const g = t.get(`base_model.model.${p}.${n}.weight`)!.data as Float32Array; if (w.length===g.length) w.forEach((v,i)=> worstT = Math.max(worstT, Math.abs(v-g[i]))); else worstT = NaN; }
  }
  console.log(m, 'delta worst/tol', worst.toFixed(3), 'tensor maxdiff', worstT, r.notes, JSON.parse(readFileSync(`${F}/${m}/adapter_config.json`,'utf8')).r, r.config.r);
}
