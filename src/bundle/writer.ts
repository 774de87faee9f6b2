import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BUNDLE_FORMAT, BUNDLE_VERSION, validateManifest, type FileEntry, type Manifest } from './format.js';

/**
 * Writes a bundle's files under `dir` and its manifest last, with the length and sha256 of every
 * file, so a reader never sees a manifest that points at a half-written bundle.
 * `external` lists files that live outside `dir` (the shared image model) with their bytes.
 */
export class BundleWriter {
  private readonly files: Record<string, FileEntry> = {};
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Writes `bytes` at `path` (relative to the bundle) and records it. */
  add(path: string, bytes: Uint8Array | string): string {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    const full = join(this.dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, data);
    this.record(path, data);
    return path;
  }

  /** Records a file that exists already (outside the bundle directory, say) without writing it. */
  record(path: string, bytes: Uint8Array): string {
    this.files[path] = { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
    return path;
  }

  /** The files recorded so far, path → length and sha256. */
  listed(): Record<string, FileEntry> {
    return { ...this.files };
  }

  /** Validates and writes manifest.json; returns it. */
  finish(fields: Omit<Manifest, 'format' | 'version' | 'files'>): Manifest {
    const manifest = validateManifest({ format: BUNDLE_FORMAT, version: BUNDLE_VERSION, ...fields, files: this.files });
    writeFileSync(join(this.dir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
    return manifest;
  }
}
