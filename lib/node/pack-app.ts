/**
 * `p2pb-node pack-app <dir>`: an app author's way to a package (lib/apps/package.ts). It runs
 * every check the extension runs before it shows a published app, so an author learns of a
 * problem here and not from someone who could not open the app.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MAX_APP_FILES } from '../apps/constants.ts';
import { AppPackageTooLargeError } from '../apps/errors.ts';
import { packApp } from '../apps/package.ts';
import { renderPublishedDocument } from '../apps/published.ts';

async function walk(dir: string, base: string, out: Map<string, Uint8Array>): Promise<void> {
  for (const name of (await readdir(dir)).sort()) {
    if (name.startsWith('.')) continue;
    const full = path.join(dir, name);
    const rel = base ? `${base}/${name}` : name;
    if ((await stat(full)).isDirectory()) await walk(full, rel, out);
    else {
      if (out.size >= MAX_APP_FILES) throw new AppPackageTooLargeError(`more than ${MAX_APP_FILES} files`);
      out.set(rel, new Uint8Array(await readFile(full)));
    }
  }
}

export interface PackedApp {
  id: string;
  name: string;
  version: string;
  reads: string[];
  writes: string[];
  files: number;
  bytes: number;
  out: string;
}

/** Packs folder `dir` (its name is the app id) into `out` (default `<id>.p2papp`). */
export async function packAppFolder(dir: string, out?: string): Promise<PackedApp> {
  const root = path.resolve(dir);
  const id = path.basename(root);
  const files = new Map<string, Uint8Array>();
  await walk(root, '', files);
  const { pkg, bytes } = packApp(id, files);
  await renderPublishedDocument(pkg); // scripts that cannot be inlined, references to missing files
  const target = path.resolve(out ?? `${id}.p2papp`);
  await writeFile(target, bytes);
  const { name, version, reads, writes } = pkg.manifest;
  return { id, name, version, reads, writes, files: files.size, bytes: bytes.length, out: target };
}
