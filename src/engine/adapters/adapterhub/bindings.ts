// Small constructors of Bindings: a file tensor that fills one parameter as it is, or in another
// shape of the same size ((IA)³'s `lora_B` [out, 1] is our vector [out]).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../../nn/module.js';
import { PeftError } from '../../../errors.js';
import type { Binding, ParamLookup } from './types.js';

export function paramNamed(params: ParamLookup, name: string): Param {
  const p = params.get(name);
  if (!p) throw new PeftError('FORMAT', `the injected method has no parameter ${name}`, { hint: 'an AdapterHub translation bug: please report it' });
  return p;
}

/** The file tensor `names[0]` (or an alias) is the parameter, possibly in `fileShape`. */
export function bind(names: string[], p: Param, fileShape: number[] = [...p.shape]): Binding {
  const same = fileShape.join(',') === p.shape.join(',');
  return {
    names, shape: fileShape,
    set: (t) => p.set(same ? t : tf.tidy(() => tf.reshape(t, [...p.shape]))),
  };
}
