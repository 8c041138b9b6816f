export { hubConfigFromEnv, type HubConfig } from './config.ts';
export { blobPath, cachedCommit, repoFolder, snapshotPath } from './cache.ts';
export { hubDownload, type HubDownloadOptions, type HubProgress } from './download.ts';
