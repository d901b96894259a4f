// What a task's examples are made of, for the parts that load a tokenizer or not.
import type { TaskType } from '../../plan/index.js';

/** Tasks whose model reads text (and so needs the backbone's tokenizer): all but image and audio classification. CLIP's zero-shot head encodes its label prompts. */
export function taskReadsText(task: TaskType): boolean {
  return task !== 'image-cls' && task !== 'audio-cls';
}
