// The kernels the native backend overrides, each calling the addon: the elementwise and reduce
// ops from tables (./unary.ts, ./binary.ts, ./reduce.ts: kernel name → the addon's op code), and
// one file per kernel with a body of its own. Everything else runs tfjs-backend-cpu's kernel (see
// ../backend.ts).
import '@tensorflow/tfjs-backend-cpu';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { unaryConfigs } from './unary.js';
import { binaryConfigs } from './binary.js';
import { reduceConfigs } from './reduce.js';
import { batchMatMulConfig } from './BatchMatMul.js';
import { castConfig } from './Cast.js';
import { gatherV2Config } from './GatherV2.js';
import { padV2Config } from './PadV2.js';
import { peftGeluConfig } from './PeftGelu.js';
import { peftGeluGradConfig } from './PeftGeluGrad.js';
import { peftLayerNormConfig } from './PeftLayerNorm.js';
import { peftLayerNormGradConfig } from './PeftLayerNormGrad.js';
import { peftRmsNormConfig, peftRmsNormGradConfig } from './PeftRmsNorm.js';
import { peftSwiGluConfig, peftSwiGluGradConfig } from './PeftSwiGlu.js';
import { peftCrossEntropyConfig, peftCrossEntropyGradConfig } from './PeftCrossEntropy.js';
import { peftAttentionConfig, peftAttentionGradConfig } from './PeftAttention.js';
import { peftLoraLinearConfig, peftLoraGradConfig } from './PeftLoraLinear.js';
import { peftAdamConfig, peftSumSquaresConfig } from './PeftAdam.js';
import { selectConfig } from './Select.js';
import { sliceConfig } from './Slice.js';
import { softmaxConfig } from './Softmax.js';
import { tileConfig } from './Tile.js';
import { transposeConfig } from './Transpose.js';
import { unsortedSegmentSumConfig } from './UnsortedSegmentSum.js';
import { fusedMatMulConfig } from './_FusedMatMul.js';
import { convConfigs } from './conv/index.js';

/** Configs with backendName 'native'. */
export function nativeKernelConfigs(): KernelConfig[] {
  return [
    ...unaryConfigs,
    ...binaryConfigs,
    ...reduceConfigs,
    batchMatMulConfig,
    castConfig,
    gatherV2Config,
    padV2Config,
    peftGeluConfig,
    peftGeluGradConfig,
    peftLayerNormConfig,
    peftLayerNormGradConfig,
    peftRmsNormConfig,
    peftRmsNormGradConfig,
    peftSwiGluConfig,
    peftSwiGluGradConfig,
    peftCrossEntropyConfig,
    peftCrossEntropyGradConfig,
    peftAttentionConfig,
    peftAttentionGradConfig,
    peftLoraLinearConfig,
    peftLoraGradConfig,
    peftAdamConfig,
    peftSumSquaresConfig,
    selectConfig,
    sliceConfig,
    softmaxConfig,
    tileConfig,
    transposeConfig,
    unsortedSegmentSumConfig,
    fusedMatMulConfig,
    ...convConfigs,
  ];
}
