// Base models from the Hugging Face hub, in the cache Python's huggingface_hub shares.
export { resolveModel, REQUIRED_FILES, OPTIONAL_FILES, type ResolveModelOptions } from './resolve-model.js';
export { hubCacheDir, hubEndpoint, hubToken, hubOffline, hfHome } from './hub-settings.js';
export { HubError, type HubErrorCode } from './hub-error.js';
export { repoFolderName, isRepoId } from './repo-id.js';
export type { DownloadProgress } from './download-blob.js';
