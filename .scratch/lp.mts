import { layerPath } from '../src/engine/selection/candidates.js';
for (const n of ['layers.0.q.weight', 'model.layers.3.mlp.up_proj.weight', 'encoder.block.0.layer.0.SelfAttention.q.weight', 'transformer.h.2.attn.c_attn.weight', 'embed.weight']) console.log(n, '→', layerPath(n));
