import * as tf from '@tensorflow/tfjs-core';
import { resolveRecipe, planRecipe } from './src/recipes/index.js';
import { openSession } from './src/engine/session.js';
import { buildData } from './src/engine/data/build.js';
import { taskLoss } from './src/engine/train/task-loss.js';
const be = process.argv[2] ?? 'cpu';
const { plan } = planRecipe(resolveRecipe('configs/quickstart.yaml'));
const p = { ...plan!, data: { ...plan!.data, train: { ...plan!.data.train!, limit: 32 } } };
const s = await openSession(p, { backend: be });
const d = await buildData(p, s.tokenizer);
const b = d.train.next({epoch:0,index:0}).batch;
const vars = [...s.trainable.params.values()].map(p=>p.variable);
const step = () => { const {value, grads} = tf.variableGrads(() => taskLoss(s.model, p.task, b, s.peft.context({training:true})), vars); value.dataSync(); tf.dispose(grads); value.dispose(); };
for (let k=0;k<3;k++){ const t = Date.now(); step(); console.log(be, 'fwd+bwd ms', Date.now()-t); }
const prof = await tf.profile(step);
const by = new Map<string, [number, number]>();
for (const k of prof.kernels) { const e = by.get(k.name) ?? [0,0]; e[0] += k.kernelTimeMs as number; e[1]++; by.set(k.name, e); }
console.log('kernels', prof.kernels.length, 'total kernel ms', prof.kernels.reduce((a,k)=>a+(k.kernelTimeMs as number),0).toFixed(1));
console.log([...by].sort((a,b)=>b[1][0]-a[1][0]).slice(0,14).map(([n,[t,c]])=>`${n} ${t.toFixed(1)}ms x${c}`).join('\n'));
