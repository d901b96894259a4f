// The families beyond text, registered with the others (registry.ts).
import type { Family } from './types.js';
import { resnetFamily } from './resnet.js';
import { layersModelFamily } from './tfjs-layers.js';
import { astFamily } from './ast.js';
import { clipFamily } from './clip.js';

export const VISION_FAMILIES: Family[] = [resnetFamily, layersModelFamily, astFamily, clipFamily];
