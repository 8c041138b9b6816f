/**
 * Hub settings from the environment, as huggingface_hub reads them: HF_ENDPOINT (default the public Hub),
 * HF_TOKEN (else the token file in HF_HOME), HF_HUB_OFFLINE, and the cache folder HF_HUB_CACHE, else
 * $HF_HOME/hub, else ~/.cache/huggingface/hub — so files Python downloaded are reused and ours are usable there.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface HubConfig {
  endpoint: string;
  token?: string;
  offline: boolean;
  cacheDir: string;
}

const truthy = (v: string | undefined) => v !== undefined && ['1', 'on', 'yes', 'true'].includes(v.toLowerCase());

export function hubConfigFromEnv(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const hfHome = env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface');
  let token = env.HF_TOKEN || undefined;
  if (!token) {
    try {
      token = readFileSync(env.HF_TOKEN_PATH ?? join(hfHome, 'token'), 'utf8').trim() || undefined;
    } catch {
      token = undefined;
    }
  }
  return {
    endpoint: (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, ''),
    token,
    offline: truthy(env.HF_HUB_OFFLINE),
    cacheDir: env.HF_HUB_CACHE ?? join(hfHome, 'hub'),
  };
}
