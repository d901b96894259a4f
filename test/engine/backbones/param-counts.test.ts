// Shapes without weights: each full-size config (configs/backbones/<name>, copied from the
// fixtures' param-counts/) builds a model whose parameter counts equal what transformers 4.36
// builds (counts.json): the task class (XxxForYyy) and the base class (XxxModel).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixture, readJson, REPO, HAVE_SHARED, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { buildBackbone, countParams } from '../../../src/engine/backbones/index.js';
import { inspectBackbone } from '../../../src/engine/inspect.js';
import type { TaskType } from '../../../src/plan/index.js';

export interface Row {
  /** configs/backbones/<config> */
  config: string;
  /** param-counts/<checkpoint> and its key in counts.json */
  checkpoint: string;
  task: TaskType;
  /** counts.json class names: the base model and (when listed there) the task model */
  base: string;
  taskClass?: string;
}

// the families beyond text (their configs: configs/backbones/resnet-50, ast-base, clip-vit-base-patch32)
const VISION_ROWS: Row[] = [
  { config: 'resnet-50', checkpoint: 'microsoft-resnet-50', task: 'image-cls', base: 'ResNetModel', taskClass: 'ResNetForImageClassification' },
  { config: 'ast-base', checkpoint: 'MIT-ast-finetuned-audioset-10-10-0.4593', task: 'audio-cls', base: 'ASTModel', taskClass: 'ASTForAudioClassification' },
  // CLIPModel is the whole model (its zero-shot head has no parameters of its own)
  { config: 'clip-vit-base-patch32', checkpoint: 'openai-clip-vit-base-patch32', task: 'clip-cls', base: 'CLIPModel', taskClass: 'CLIPModel' },
];

const ROWS: Row[] = [
  { config: 'bert-base-uncased', checkpoint: 'bert-base-uncased', task: 'seq-cls', base: 'BertModel', taskClass: 'BertForSequenceClassification' },
  { config: 'roberta-base', checkpoint: 'roberta-base', task: 'seq-cls', base: 'RobertaModel', taskClass: 'RobertaForSequenceClassification' },
  { config: 'distilbert-base-uncased', checkpoint: 'distilbert-base-uncased', task: 'seq-cls', base: 'DistilBertModel' },
  { config: 'vit-base-patch16-224', checkpoint: 'google-vit-base-patch16-224', task: 'image-cls', base: 'ViTModel' },
  ...VISION_ROWS,
];

const counts: Record<string, Record<string, number>> = HAVE_SHARED ? readJson(fixture('param-counts', 'counts.json')) : {};

for (const row of ROWS) {
  test(`${row.config}: ${row.base}${row.taskClass ? ` and ${row.taskClass}` : ''} parameter counts equal transformers'`, { skip: SKIP_NO_SHARED }, () => {
    const dir = join(REPO, 'configs', 'backbones', row.config);
    assert.deepEqual(readJson(dir, 'config.json'), readJson(fixture('param-counts', row.checkpoint, 'config.json')), 'the config is a copy of the fixture');
    const expected = counts[row.checkpoint];
    const report = inspectBackbone(dir, row.task);
    assert.equal(report.total_params, expected[row.base], `${row.base} (inspect total_params)`);
    if (row.taskClass) {
      const { model } = buildBackbone(dir, { task: row.task });
      assert.equal(model.architecture, row.taskClass);
      assert.equal(countParams(model), expected[row.taskClass], row.taskClass);
      assert.equal(report.task_params, expected[row.taskClass]);
    }
  });
}

test('the BERT-style families also count the other tasks: token classification drops the pooler, regression has one output', () => {
  const bert = join(REPO, 'configs', 'backbones', 'bert-base-uncased');
  const base = 109_482_240;
  const pooler = 768 * 768 + 768;
  const token = inspectBackbone(bert, 'token-cls');
  assert.equal(token.total_params, base, 'BertModel as the base, whatever the task class keeps');
  assert.equal(token.task_params, base - pooler + 768 * 2 + 2, 'BertForTokenClassification');
  assert.equal(inspectBackbone(bert, 'regression').task_params, base + 768 + 1, 'BertForSequenceClassification, num_labels 1');
  const distil = inspectBackbone(join(REPO, 'configs', 'backbones', 'distilbert-base-uncased'), 'seq-cls');
  assert.equal(distil.task_params, 66_362_880 + 768 * 768 + 768 + 768 * 2 + 2, 'DistilBertForSequenceClassification');
});
