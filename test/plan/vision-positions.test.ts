// The planner on convolutional and two-tower backbones: which positions exist where, what
// lowrank may do at a convolution, and the Tucker factorization's options — all reported at the
// recipe's place before any compute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileMethod, familyInfo, parsePosition, positionMatches, type TaskType } from '../../src/plan/index.js';

function issues(method: Record<string, unknown>, family: string, task: TaskType): string[] {
  const out: string[] = [];
  compileMethod(method, { family: familyInfo(family), depth: 10, task }, (path, message) => out.push(`${path.join('.')}: ${message}`));
  return out;
}

test('conv positions exist on convolutional families only; attention positions not there', () => {
  assert.deepEqual(issues({ preset: 'conv-lora' }, 'resnet', 'image-cls'), []);
  assert.deepEqual(issues({ function: 'lowrank', position: ['conv.pointwise', 'dense'] }, 'tfjs-layers', 'image-cls'), []);
  assert.match(issues({ preset: 'lora' }, 'resnet', 'image-cls')[0], /position attn.query does not exist here: resnet is a convolutional network: use conv, conv.pointwise/);
  assert.match(issues({ preset: 'conv-lora' }, 'bert', 'seq-cls')[0], /bert has no convolution or dense sites/);
  assert.deepEqual(issues({ preset: 'bn-tuning' }, 'resnet', 'image-cls'), []);
});

test('lowrank at convolutions: not depthwise, not DoRA, parallel only; core with tucker only', () => {
  assert.match(issues({ function: 'lowrank', position: 'conv.depthwise' }, 'tfjs-layers', 'image-cls')[0], /a depthwise convolution has one filter per channel/);
  assert.match(issues({ function: 'lowrank', position: 'conv.spatial', dora: true }, 'resnet', 'image-cls')[0], /DoRA rescales a projection's weight rows/);
  assert.match(issues({ function: 'lowrank', position: 'conv', insertion: 'sequential' }, 'resnet', 'image-cls')[0], /needs insertion: parallel/);
  assert.match(issues({ function: 'lowrank', position: 'conv', core: [2, 2, 1, 1] }, 'resnet', 'image-cls')[0], /core applies with factorization: tucker only/);
  assert.match(issues({ function: 'lowrank', position: 'attn.query', factorization: 'tucker', dora: true }, 'bert', 'seq-cls')[0], /dora and factorization: tucker cannot be combined/);
  assert.deepEqual(issues({ preset: 'conv-flora', core: [4, 4, 2, 2] }, 'resnet', 'image-cls'), []);
});

test('text. and vision. narrow a position to one of CLIP\'s towers; elsewhere they are refused', () => {
  const p = parsePosition('vision.attn.value')!;
  assert.deepEqual(p, { stack: 'vision', role: 'attn.value' });
  assert.ok(positionMatches(p, 'vision', 'self_attn.value'));
  assert.ok(!positionMatches(p, 'text', 'self_attn.value'));
  assert.deepEqual(issues({ preset: 'lora', position: ['text.attn.query', 'vision.attn.value'] }, 'clip', 'clip-cls'), []);
  assert.match(issues({ preset: 'lora', position: 'vision.attn.query' }, 'bert', 'seq-cls')[0], /bert has no vision tower/);
  assert.ok(positionMatches(parsePosition('conv')!, 'model', 'conv.depthwise'));
});
