// Parameter names in adapter files. Python peft prefixes module paths with `base_model.model.`
// and names a module's tensors after the module path (`<path>.lora_A.weight`, `<path>.ia3_l`);
// our own type keeps our internal names under the same prefix. The task head (modules_to_save)
// is saved in full under the same prefix, or under `base_model.` for the prompt-learning types
// (their base model is not wrapped). Prompt-learning tensors themselves are `prompt_embeddings`.
export const PEFT_PREFIX = 'base_model.model.';
export const PROMPT_LEARNING_PREFIX = 'base_model.';
export const PROMPT_EMBEDDINGS = 'prompt_embeddings';

/** `base_model.model.<site>.<local><suffix>`: `lora_A` + `.weight`, `ia3_l`, `hada_w1_a`, … */
export function peftSiteName(sitePath: string, local: string, suffix = ''): string {
  return `${PEFT_PREFIX}${sitePath}.${local}${suffix}`;
}

export function unifiedName(internal: string): string {
  return PEFT_PREFIX + internal;
}
