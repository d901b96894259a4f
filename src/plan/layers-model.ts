// A TensorFlow.js layers-model directory (model.json with `format: "layers-model"` + weight
// shards) as a backbone: the config both sides read in place of config.json. It carries the
// model's topology (the builder wires the graph from it), the input geometry, the number of
// weight layers (convolutions and dense layers, what `layers:` selectors count) and its pixel
// range ([0, 1]: tfjs image models divide by 255; a preprocessor_config.json beside it overrides).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const LAYERS_MODEL_FILE = 'model.json';
export const LAYERS_MODEL_TYPE = 'tfjs-layers';

/** Keras layer classes that hold a kernel PEFT can adapt (in graph order they are the model's "layers"). */
export const WEIGHT_LAYER_CLASSES = ['Conv2D', 'DepthwiseConv2D', 'Dense'];

type Obj = Record<string, unknown>;

export function isLayersModelDir(dir: string): boolean {
  return !existsSync(join(dir, 'config.json')) && existsSync(join(dir, LAYERS_MODEL_FILE));
}

/** The Keras model config inside a model.json (modelTopology.model_config, or modelTopology itself). */
export function kerasModelConfig(modelJson: Obj): Obj | null {
  const topo = modelJson.modelTopology as Obj | undefined;
  if (!topo || typeof topo !== 'object') return null;
  const mc = (topo.model_config ?? topo) as Obj;
  return mc && typeof mc === 'object' && typeof mc.class_name === 'string' ? mc : null;
}

/** config.json's stand-in for a layers-model directory, or why the directory is not one. */
export function layersModelConfig(dir: string): { config: Obj } | { error: string; hint: string } {
  const file = join(dir, LAYERS_MODEL_FILE);
  let json: Obj;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as Obj;
  } catch (e) {
    return { error: `${file} is not valid JSON (${(e as Error).message})`, hint: 'a TensorFlow.js layers-model directory has a model.json written by tfjs or its converter' };
  }
  const hint = 'export the model with model.save() or tensorflowjs_converter --output_format tfjs_layers_model';
  if (json.format !== undefined && json.format !== 'layers-model') return { error: `${file} is a ${String(json.format)}, not a layers-model`, hint };
  const mc = kerasModelConfig(json);
  if (!mc) return { error: `${file} has no Keras model topology`, hint };
  const inner = (mc.config ?? {}) as Obj;
  const layers = Array.isArray(inner.layers) ? (inner.layers as Obj[]) : [];
  const input = layers.find((l) => l.class_name === 'InputLayer');
  const shape = ((input?.config as Obj | undefined)?.batch_input_shape ?? (input?.config as Obj | undefined)?.batch_shape) as (number | null)[] | undefined;
  const [h, w, c] = Array.isArray(shape) && shape.length === 4 ? shape.slice(1) : [null, null, null];
  return {
    config: {
      model_type: LAYERS_MODEL_TYPE,
      architectures: [`${String(mc.class_name)}:${String(inner.name ?? 'model')}`],
      image_size: typeof h === 'number' && h === w ? h : 224,
      num_channels: typeof c === 'number' ? c : 3,
      image_mean: 0,
      image_std: 1,
      num_hidden_layers: layers.filter((l) => WEIGHT_LAYER_CLASSES.includes(String(l.class_name))).length,
      topology: mc,
      weights_manifest: json.weightsManifest ?? [],
    },
  };
}
