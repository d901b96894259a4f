export { loadAdapterHub, hubMethod } from './load.js';
export { adapterLayout, loadAnyAdapter, type AdapterLayout } from './detect.js';
export { isAdapterHubDir, readHubWrapper, HUB_CONFIG, HUB_WEIGHTS, type HubWrapper } from './config.js';
