/** Finds files shipped with the package (media/…), from the bundle in dist/ or from the TypeScript sources. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'audiosae') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the audiosae package folder');
    dir = up;
  }
}

export const assetPath = (...parts: string[]) => join(packageRoot(), 'media', ...parts);
