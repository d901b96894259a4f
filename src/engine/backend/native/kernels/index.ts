// The kernels the native backend overrides (one file per kernel), each calling the addon.
// Everything else runs tfjs-backend-cpu's kernel (see ../backend.ts).
import '@tensorflow/tfjs-backend-cpu';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { absConfig } from './Abs.js';
import { addConfig } from './Add.js';
import { batchMatMulConfig } from './BatchMatMul.js';
import { castConfig } from './Cast.js';
import { clipByValueConfig } from './ClipByValue.js';
import { eluConfig } from './Elu.js';
import { equalConfig } from './Equal.js';
import { erfConfig } from './Erf.js';
import { expConfig } from './Exp.js';
import { expm1Config } from './Expm1.js';
import { gatherV2Config } from './GatherV2.js';
import { greaterConfig } from './Greater.js';
import { greaterEqualConfig } from './GreaterEqual.js';
import { leakyReluConfig } from './LeakyRelu.js';
import { lessConfig } from './Less.js';
import { lessEqualConfig } from './LessEqual.js';
import { logConfig } from './Log.js';
import { log1pConfig } from './Log1p.js';
import { maxConfig } from './Max.js';
import { maximumConfig } from './Maximum.js';
import { meanConfig } from './Mean.js';
import { minConfig } from './Min.js';
import { minimumConfig } from './Minimum.js';
import { multiplyConfig } from './Multiply.js';
import { negConfig } from './Neg.js';
import { notEqualConfig } from './NotEqual.js';
import { padV2Config } from './PadV2.js';
import { peftGeluConfig } from './PeftGelu.js';
import { peftGeluGradConfig } from './PeftGeluGrad.js';
import { peftLayerNormConfig } from './PeftLayerNorm.js';
import { peftLayerNormGradConfig } from './PeftLayerNormGrad.js';
import { powConfig } from './Pow.js';
import { preluConfig } from './Prelu.js';
import { prodConfig } from './Prod.js';
import { realDivConfig } from './RealDiv.js';
import { reciprocalConfig } from './Reciprocal.js';
import { reluConfig } from './Relu.js';
import { relu6Config } from './Relu6.js';
import { rsqrtConfig } from './Rsqrt.js';
import { selectConfig } from './Select.js';
import { sigmoidConfig } from './Sigmoid.js';
import { sliceConfig } from './Slice.js';
import { softmaxConfig } from './Softmax.js';
import { softplusConfig } from './Softplus.js';
import { sqrtConfig } from './Sqrt.js';
import { squareConfig } from './Square.js';
import { squaredDifferenceConfig } from './SquaredDifference.js';
import { stepConfig } from './Step.js';
import { subConfig } from './Sub.js';
import { sumConfig } from './Sum.js';
import { tanhConfig } from './Tanh.js';
import { tileConfig } from './Tile.js';
import { transposeConfig } from './Transpose.js';
import { unsortedSegmentSumConfig } from './UnsortedSegmentSum.js';
import { fusedMatMulConfig } from './_FusedMatMul.js';

/** Configs with backendName 'native'. */
export function nativeKernelConfigs(): KernelConfig[] {
  return [
    absConfig,
    addConfig,
    batchMatMulConfig,
    castConfig,
    clipByValueConfig,
    eluConfig,
    equalConfig,
    erfConfig,
    expConfig,
    expm1Config,
    gatherV2Config,
    greaterConfig,
    greaterEqualConfig,
    leakyReluConfig,
    lessConfig,
    lessEqualConfig,
    logConfig,
    log1pConfig,
    maxConfig,
    maximumConfig,
    meanConfig,
    minConfig,
    minimumConfig,
    multiplyConfig,
    negConfig,
    notEqualConfig,
    padV2Config,
    peftGeluConfig,
    peftGeluGradConfig,
    peftLayerNormConfig,
    peftLayerNormGradConfig,
    powConfig,
    preluConfig,
    prodConfig,
    realDivConfig,
    reciprocalConfig,
    reluConfig,
    relu6Config,
    rsqrtConfig,
    selectConfig,
    sigmoidConfig,
    sliceConfig,
    softmaxConfig,
    softplusConfig,
    sqrtConfig,
    squareConfig,
    squaredDifferenceConfig,
    stepConfig,
    subConfig,
    sumConfig,
    tanhConfig,
    tileConfig,
    transposeConfig,
    unsortedSegmentSumConfig,
    fusedMatMulConfig,
  ];
}
