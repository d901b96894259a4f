// The `native` backend: tfjs-backend-cpu's kernels, with the hot ones replaced by calls into
// the OpenBLAS N-API addon. Unavailable (an Error saying why) when the addon is not built.
import { loadAddon } from './addon.js';

export interface NativeLoaded {
  tfName: 'native';
  threads: () => number;
  detail: string;
}

export async function prepareNative(): Promise<NativeLoaded> {
  const addon = loadAddon();
  const { registerNativeBackend } = await import('./backend.js');
  registerNativeBackend(addon);
  return { tfName: 'native', threads: () => addon.numThreads(), detail: addon.blasInfo() };
}
