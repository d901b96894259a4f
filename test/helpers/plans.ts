// Plans built in code for engine tests (the recipe stage has its own tests): defaults for every
// section, the task, data and method given by the test.
import { join } from 'node:path';
import type { DataPlan, DataSplitPlan, MethodPlan, Plan, TaskPlan } from '../../src/plan/index.js';
import { REPO } from './fixtures.js';

export const STORIES = join(REPO, 'assets', 'models', 'stories260K');

export function split(path: string, extra: Partial<DataSplitPlan> = {}): DataSplitPlan {
  const format = path.endsWith('.jsonl') ? 'jsonl' : path.endsWith('.csv') ? 'csv' : path.endsWith('.txt') ? 'text' : 'idx';
  return { path, format, limit: null, split: null, ...extra };
}

export const LORA: MethodPlan = {
  preset: 'lora',
  modules: [{
    name: 'lora', preset: 'lora', positions: ['attn.query', 'attn.value'], function: 'lowrank', insertion: 'parallel',
    composition: 'scaled', scale: 2, heads: 'single', layers: 'all', options: { init: 'lora', dropout: 0, rank: 4, alpha: 8, rslora: false, dora: false },
  }],
  unfreeze: [],
  trainHead: true,
};

export interface PlanParts {
  backbone?: string;
  task: Partial<TaskPlan> & Pick<TaskPlan, 'type'>;
  data: Partial<DataPlan> & Pick<DataPlan, 'train'>;
  method?: MethodPlan;
  training?: Partial<Plan['training']>;
  eval?: Partial<Plan['eval']>;
  optimizer?: Partial<Plan['optimizer']>;
  seed?: number;
  output?: string;
}

export function makePlan(p: PlanParts): Plan {
  return {
    name: 'test',
    recipePath: null,
    description: null,
    seed: p.seed ?? 0,
    backbone: { path: p.backbone ?? STORIES, dtype: 'float32' },
    task: { numLabels: null, labels: null, pooling: null, labelSmoothing: 0, ...p.task },
    data: { validation: null, test: null, columns: {}, maxLength: 32, packing: p.task.type === 'causal-lm', groupByLength: false, onError: 'fail', ...p.data },
    method: p.method ?? LORA,
    training: {
      maxSteps: 10, epochs: null, batchSize: 4, gradAccum: 1, maxGradNorm: 1, logEvery: 5, evalEvery: null,
      checkpointEvery: null, keepCheckpoints: 1, dropout: 0, earlyStopping: null,
      lossSpike: { factor: 10, window: 20, action: 'stop' }, ...p.training,
    },
    optimizer: { name: 'adamw', lr: 1e-2, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentum: 0, groups: [], ...p.optimizer },
    schedule: { name: 'constant', warmupSteps: null, warmupRatio: null, power: 1, minLr: 0 },
    eval: { metrics: ['accuracy'], batchSize: 8, limit: null, ...p.eval },
    generate: null,
    output: { dir: p.output ?? join(REPO, 'runs') },
  };
}
