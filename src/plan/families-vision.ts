// The catalog entries of the families beyond text (kept apart from the text families' table):
// convolutional networks (transformers' ResNet, TensorFlow.js layers-models), the Audio
// Spectrogram Transformer, and CLIP's two towers.
import type { FamilyInfo } from './families.js';

export const VISION_CATALOG: FamilyInfo[] = [
  { name: 'resnet', modelTypes: ['resnet'], tasks: ['image-cls'], encoderDecoder: false, fusedQkv: false, gatedFfn: false, tokens: false, postLn: false, convolutional: true },
  { name: 'tfjs-layers', modelTypes: ['tfjs-layers'], tasks: ['image-cls'], encoderDecoder: false, fusedQkv: false, gatedFfn: false, tokens: false, postLn: false, convolutional: true },
  { name: 'ast', modelTypes: ['audio-spectrogram-transformer'], tasks: ['audio-cls'], encoderDecoder: false, fusedQkv: false, gatedFfn: false, tokens: false, postLn: false },
  { name: 'clip', modelTypes: ['clip'], tasks: ['clip-cls'], encoderDecoder: false, fusedQkv: false, gatedFfn: false, tokens: true, postLn: false, towers: ['text', 'vision'] },
];
