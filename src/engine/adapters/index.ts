// Adapter codecs: Python peft's layout (its types and our UNIFIED_VIEW, read and written) and
// AdapterHub's (read). Byte formats (safetensors, atomic writes) are src/engine/io's.
export { adapterLayout, loadAnyAdapter, type AdapterLayout } from './detect.js';
export { loadAdapter, type LoadedAdapter } from './peft/load.js';
export { saveAdapter, adapterConfig, adapterTensors, adapterSize, ADAPTER_CONFIG, ADAPTER_WEIGHTS } from './peft/save.js';
export { loadAdapterHub } from './adapterhub/index.js';
