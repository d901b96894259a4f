// The frozen projection behind a site, for methods that decompose or read its weight (LoLDU's LU,
// CorDA's SVD, DoRA's norms, a subspace's θ0), and its weight as a float64 matrix.
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import type { SiteInfo } from '../backbones/types.js';
import type { BuildContext } from './types.js';
import { mat, type Mat } from './linalg.js';
import { PeftError } from '../../errors.js';

/** The Linear at each of the sites (by path); a site that is not a projection is an error naming the method. */
export function siteLinears(c: BuildContext, what: string): Map<SiteInfo, Linear> {
  const modules = new Map<string, Module>(c.model.root.namedModules());
  return new Map(c.sites.map((site) => {
    const found = modules.get(site.path);
    if (!(found instanceof Linear)) {
      throw new PeftError('RECIPE', `${what} needs the projection's weight, but ${site.path} is not a linear layer of this backbone`, {
        where: `method.modules.${c.plan.name}`,
      });
    }
    return [site, found];
  }));
}

/** W [out, in] in float64 (null when the backbone's weights are not loaded: inspection). */
export function weight64(linear: Linear): Mat | null {
  if (!linear.weight.loaded) return null;
  const w = tf.tidy(() => linear.weightOutIn());
  const data = w.dataSync();
  if (w !== linear.weight.value) w.dispose();
  return mat(linear.outFeatures, linear.inFeatures, data);
}
