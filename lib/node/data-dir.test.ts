import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_HOST } from './constants.ts';
import { DataDir, defaultDataDir } from './data-dir.ts';
import { tempDir } from './test-helpers.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
});

async function open(): Promise<DataDir> {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  const data = await DataDir.open(dir.path);
  await data.updateSettings({ host: LOCAL_HOST });
  return data;
}

describe('data directory', () => {
  it('keeps keys in 0600 files inside a 0700 directory, with no temporary files left', async () => {
    const data = await open();
    const entry = await data.addNetwork({ name: 'Secret club', closed: true, origin: 'created' });
    await data.frontDoor(LOCAL_HOST);
    expect((await stat(data.path)).mode & 0o777).toBe(0o700);
    for (const file of [data.networkFile(entry.id), path.join(data.path, 'front-door.json'), path.join(data.path, 'node.json')]) {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    }
    expect((await readdir(data.networksPath)).filter((name) => name.includes('.tmp-'))).toEqual([]);
    const stored = JSON.parse(await readFile(data.networkFile(entry.id), 'utf8')) as Record<string, unknown>;
    expect(stored).toMatchObject({ version: 1, id: entry.id, name: 'Secret club', port: entry.port, origin: 'created' });
    expect(typeof stored.secret).toBe('string');
  });

  it('reads back the same network, and finds it by a unique id prefix', async () => {
    const data = await open();
    const entry = await data.addNetwork({ name: 'One', origin: 'created' });
    const again = await DataDir.open(data.path);
    const read = await again.getNetwork(entry.id.slice(0, 5));
    expect([read.id, read.peerId, read.port, read.certificate.certhash]).toEqual([
      entry.id,
      entry.peerId,
      entry.port,
      entry.certificate.certhash,
    ]);
    await expect(again.getNetwork('zzzzzz')).rejects.toMatchObject({ code: 'NETWORK_NOT_FOUND' });
    await expect(again.addNetwork({ id: entry.id, name: 'Twice', origin: 'joined' })).rejects.toMatchObject({
      code: 'NETWORK_EXISTS',
    });
  });

  it('refuses files of a newer format and skips a network file that does not decode', async () => {
    const data = await open();
    const good = await data.addNetwork({ name: 'Good', origin: 'created' });
    const bad = await data.addNetwork({ name: 'Bad', origin: 'created' });
    await writeFile(data.networkFile(bad.id), '{ "version": 1, "id": "truncated');
    const { entries, problems } = await data.listNetworks();
    expect(entries.map((e) => e.id)).toEqual([good.id]);
    expect(problems.map((p) => (p as { code?: string }).code)).toEqual(['DATA_DIR_INVALID']);

    const future = JSON.parse(await readFile(data.networkFile(good.id), 'utf8')) as Record<string, unknown>;
    await writeFile(data.networkFile(good.id), JSON.stringify({ ...future, version: 2 }));
    await expect(data.getNetwork(good.id)).rejects.toMatchObject({ code: 'UNSUPPORTED_DATA_FORMAT' });
    await writeFile(path.join(data.path, 'node.json'), JSON.stringify({ format: 'p2pb-node', version: 2 }));
    await expect(DataDir.open(data.path)).rejects.toMatchObject({ code: 'UNSUPPORTED_DATA_FORMAT' });
  });

  it('picks its location from --data, then $P2PB_NODE_DATA, then ~/.p2pb-node', () => {
    expect(defaultDataDir({ P2PB_NODE_DATA: '/srv/p2pb' })).toBe('/srv/p2pb');
    expect(defaultDataDir({ HOME: '/home/x' }).endsWith('.p2pb-node')).toBe(true);
  });
});
