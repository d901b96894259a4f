export { loadAdapterHub, hubMethod } from './load.js';
export { isAdapterHubDir, readHubWrapper, HUB_CONFIG, HUB_WEIGHTS, type HubWrapper } from './config.js';
