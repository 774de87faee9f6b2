import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moveIntoPlace } from '../../../src/build/bundle.js';

const bundle = (dir: string, text: string) => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), text);
  return dir;
};
const manifest = (dir: string) => readFileSync(join(dir, 'manifest.json'), 'utf8');

describe('moveIntoPlace', () => {
  it('replaces the bundle and leaves nothing beside it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vitrine-move-'));
    const out = bundle(join(root, 'shop'), 'old');
    await moveIntoPlace(bundle(join(root, '.shop.building'), 'new'), out);
    expect(manifest(out)).toBe('new');
    expect(readdirSync(root)).toEqual(['shop']);
  });

  it('puts the old bundle back when the new one cannot be moved in', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vitrine-move-'));
    const out = bundle(join(root, 'shop'), 'old');
    await expect(moveIntoPlace(join(root, 'never-written'), out)).rejects.toThrow(/ENOENT/);
    expect(manifest(out)).toBe('old');
    expect(readdirSync(root)).toEqual(['shop']);
  });

  it('recovers a bundle a dead run left aside, before anything else', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vitrine-move-'));
    // A run died between its renames: no bundle where the site serves it, the old one aside.
    bundle(join(root, 'shop.old-4242'), 'old');
    await expect(moveIntoPlace(join(root, 'never-written'), join(root, 'shop'))).rejects.toThrow();
    expect(manifest(join(root, 'shop'))).toBe('old');
    expect(readdirSync(root)).toEqual(['shop']);
    // With the bundle in place, leftovers are removed; a folder that only looks similar is not touched.
    bundle(join(root, 'shop.old-77'), 'stale');
    bundle(join(root, 'shop.old-notes'), 'mine');
    await moveIntoPlace(bundle(join(root, '.shop.building'), 'new'), join(root, 'shop'));
    expect(manifest(join(root, 'shop'))).toBe('new');
    expect(readdirSync(root).sort()).toEqual(['shop', 'shop.old-notes']);
    expect(existsSync(join(root, 'shop.old-77'))).toBe(false);
  });
});
