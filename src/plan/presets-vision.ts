// Presets for convolutional backbones (their positions are conv.*, dense and block.output), kept
// apart from the transformer presets (presets.ts spreads them in).
import type { Preset } from './presets.js';

export const VISION_PRESETS: Preset[] = [
  {
    name: 'conv-lora', summary: 'LoRA on the 1×1 convolutions: lora_A a convolution to r channels, lora_B a 1×1 one (Python peft\'s Conv2d LoRA)',
    source: 'Hu et al. 2021, LoRA: Low-Rank Adaptation of Large Language Models (convolutions as Python peft\'s LoRA Conv2d layer)',
    modules: { lora: { position: 'conv.pointwise', function: 'lowrank', rank: 8, alpha: 8, insertion: 'parallel', composition: 'scaled', init: 'lora' } },
  },
  {
    name: 'conv-flora', summary: 'a Tucker core with one factor per kernel dimension (in, out, kh, kw) on the full convolutions',
    source: 'Si et al. 2024, FLoRA: Low-Rank Core Space for N-dimension',
    modules: {
      flora: {
        position: ['conv.pointwise', 'conv.spatial'], function: 'lowrank', factorization: 'tucker', rank: 8,
        insertion: 'parallel', composition: 'scaled', scale: 1,
      },
    },
  },
  {
    name: 'conv-adapter', summary: 'a bottleneck adapter (1×1 down, ReLU, 1×1 up over channels) after every residual block',
    source: 'Rebuffi et al. 2017, Learning multiple visual domains with residual adapters (1×1 convolution adapters in a frozen network)',
    modules: {
      adapter: {
        position: 'block.output', function: 'bottleneck', bottleneck: 16, nonlinearity: 'relu',
        insertion: 'sequential', composition: 'add', init: 'lora',
      },
    },
  },
  {
    name: 'bn-tuning', summary: 'trains the batch norms\' affine terms (γ, β) only; their running statistics stay frozen',
    source: 'Frankle et al. 2021, Training BatchNorm and Only BatchNorm: On the Expressive Power of Random Features in CNNs',
    modules: {}, unfreeze: ['norms'],
  },
];
