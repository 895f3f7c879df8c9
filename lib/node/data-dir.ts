/**
 * The always-on node's data directory (docs/node.md#data-directory):
 *
 *     <data>/node.json                settings (host, announce, open, …), format version
 *     <data>/front-door.json          the front door's peer key, port and certificate   (0600)
 *     <data>/networks/<id>.json       one file per network: key, port, certificate,
 *                                     name, secret, bootstrap peers, engine settings    (0600)
 *     <data>/dht/<id>/                each network's DHT records (LevelDB; dht-store.ts)
 *     <data>/run.pid                  held by the `run` that serves the directory
 *
 * Every file is JSON with `version`, written atomically (temporary file, fsync, rename), so a
 * crash leaves the old file or the new one, never half of one. The directory is the source of
 * truth: offline commands (create, join, leave) edit it; a running node re-reads networks/ when
 * it changes.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { fromBase64url, toBase64url } from '../util/bytes.ts';
import type { EngineSettings, NetworkInvite } from '../net/invite.ts';
import { createNetworkId, createNetworkSecret, isNetworkId } from '../net/network-id.ts';
import { NETWORK_SECRET_BYTES } from '../net/constants.ts';
import { displayNameProblem, multiaddrTextProblem } from '../records/index.ts';
import { createWebRTCCertificate, isWebRTCCertificate } from './certificate.ts';
import type { WebRTCCertificate } from './certificate.ts';
import {
  DATA_DIR_ENV,
  DATA_DIR_FORMAT,
  DATA_DIR_MODE,
  DATA_FORMAT_VERSION,
  DEFAULT_DATA_DIR_NAME,
  DEFAULT_MAX_HOSTED_NETWORKS,
  DEFAULT_RUN_HOST,
  DHT_STORES_DIR,
  FRONT_DOOR_FILE,
  LOCK_FILE,
  MAX_DATA_FILE_BYTES,
  NETWORKS_DIR,
  NETWORK_FILE_SUFFIX,
  NODE_FILE,
  SECRET_FILE_MODE,
} from './constants.ts';
import {
  AmbiguousNetworkIdError,
  DataDirInvalidError,
  DataDirLockedError,
  NetworkExistsError,
  NetworkNotFoundError,
  UnsupportedDataFormatError,
} from './errors.ts';
import { createPeerKey, peerIdOfKey } from './peer-key.ts';
import { pickPort } from './ports.ts';

// ---------------------------------------------------------------------------------------------
// Shapes

/** Operator settings, kept in node.json so every command (and every restart) agrees on them. */
export interface NodeSettings {
  /** Listen address of every network and the front door. */
  host: string;
  /** Addresses (IPs or DNS names) to announce and put in invites instead of the listen host. */
  announce: string[];
  /** An open community node: browsers may ask its front door to host new networks. */
  open: boolean;
  /** Keep private and loopback addresses in DHT answers (LAN and local nodes). */
  privateAddresses: boolean;
  /** Networks browsers may create on an open node. */
  maxHostedNetworks: number;
}

/** Where a network came from: created here, joined from an invite, or created by a browser. */
export type NetworkOrigin = 'created' | 'joined' | 'hosted';

/** A network of the data directory, decoded. */
export interface NetworkEntry {
  readonly id: string;
  readonly name: string;
  /** A closed network's 32-byte secret. */
  readonly secret?: Uint8Array;
  /** Other always-on nodes of the network (from the invite it was joined with). */
  readonly bootstrap: readonly string[];
  readonly settings: EngineSettings;
  /** Protobuf-encoded libp2p private key of this node in this network (createPeerKey). */
  readonly peerKey: Uint8Array;
  readonly peerId: string;
  /** TCP port of WebSockets and UDP port of WebRTC-direct. */
  readonly port: number;
  readonly certificate: WebRTCCertificate;
  /** Extra multiaddrs to announce and put in invites (wss behind a reverse proxy). */
  readonly announce: readonly string[];
  readonly origin: NetworkOrigin;
  readonly createdAt: number;
}

export interface FrontDoorEntry {
  readonly peerKey: Uint8Array;
  readonly peerId: string;
  readonly port: number;
  readonly certificate: WebRTCCertificate;
}

export interface AddNetworkInput {
  /** Default: a new random id. */
  id?: string;
  name: string;
  /** A closed network's secret; `closed: true` without one makes a new secret. */
  secret?: Uint8Array;
  closed?: boolean;
  bootstrap?: readonly string[];
  settings?: EngineSettings;
  origin: NetworkOrigin;
  /** Default: a free port. */
  port?: number;
}

const DEFAULT_SETTINGS: NodeSettings = {
  host: DEFAULT_RUN_HOST,
  announce: [],
  open: false,
  privateAddresses: false,
  maxHostedNetworks: DEFAULT_MAX_HOSTED_NETWORKS,
};

/** The data directory to use: --data, else $P2PB_NODE_DATA, else ~/.p2pb-node. */
export function defaultDataDir(env: Record<string, string | undefined> = process.env): string {
  const fromEnv = env[DATA_DIR_ENV];
  return path.resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.join(homedir(), DEFAULT_DATA_DIR_NAME));
}

// ---------------------------------------------------------------------------------------------
// Files

/** Writes `value` as JSON atomically: a temporary file in the same directory, fsync, rename. */
export async function writeJsonAtomic(file: string, value: unknown, mode = SECRET_FILE_MODE): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await open(temporary, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
  try {
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await handle.chmod(mode); // the umask may have narrowed or the file system ignored `mode`
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  const dir = await open(path.dirname(file), fsConstants.O_RDONLY).catch(() => undefined);
  await dir?.sync().catch(() => {});
  await dir?.close();
}

async function readJson(file: string): Promise<unknown> {
  const info = await stat(file);
  if (info.size > MAX_DATA_FILE_BYTES) throw new DataDirInvalidError(file, `larger than ${MAX_DATA_FILE_BYTES} bytes`);
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new DataDirInvalidError(file, 'not JSON', { cause });
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

function object(file: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DataDirInvalidError(file, 'not a JSON object');
  return value as Record<string, unknown>;
}

/** Refuses files of a newer format; version 1 is the only one so far, so there is nothing to migrate. */
function checkVersion(file: string, data: Record<string, unknown>): void {
  if (data.version !== DATA_FORMAT_VERSION) throw new UnsupportedDataFormatError(file, data.version);
}

function field<T>(file: string, ok: boolean, name: string, value: T): T {
  if (!ok) throw new DataDirInvalidError(file, `bad field "${name}"`);
  return value;
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= 65535;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function decodeKey(file: string, value: unknown): { peerKey: Uint8Array; peerId: string } {
  try {
    const peerKey = fromBase64url(value as string);
    return { peerKey, peerId: peerIdOfKey(peerKey) };
  } catch (cause) {
    throw new DataDirInvalidError(file, 'bad field "peerKey"', { cause });
  }
}

function decodeNetwork(file: string, value: unknown): NetworkEntry {
  const data = object(file, value);
  checkVersion(file, data);
  const id = field(file, isNetworkId(data.id), 'id', data.id as string);
  if (path.basename(file) !== `${id}${NETWORK_FILE_SUFFIX}`) throw new DataDirInvalidError(file, `holds network ${id}`);
  const name = field(file, displayNameProblem(data.name) === null, 'name', data.name as string);
  let secret: Uint8Array | undefined;
  if (data.secret !== undefined) {
    try {
      secret = fromBase64url(data.secret as string);
    } catch {
      secret = undefined;
    }
    field(file, secret?.length === NETWORK_SECRET_BYTES, 'secret', null);
  }
  const bootstrap = field(
    file,
    isStringArray(data.bootstrap) && data.bootstrap.every((a) => multiaddrTextProblem(a) === null),
    'bootstrap',
    data.bootstrap as string[],
  );
  const settings = field(
    file,
    typeof data.settings === 'object' && data.settings !== null && !Array.isArray(data.settings),
    'settings',
    data.settings as EngineSettings,
  );
  const announce = field(file, isStringArray(data.announce), 'announce', data.announce as string[]);
  const origin = field(file, ['created', 'joined', 'hosted'].includes(data.origin as string), 'origin', data.origin as NetworkOrigin);
  return {
    id,
    name,
    ...(secret === undefined ? {} : { secret }),
    bootstrap,
    settings,
    ...decodeKey(file, data.peerKey),
    port: field(file, isPort(data.port), 'port', data.port as number),
    certificate: field(file, isWebRTCCertificate(data.certificate), 'certificate', data.certificate as WebRTCCertificate),
    announce,
    origin,
    createdAt: field(file, typeof data.createdAt === 'number', 'createdAt', data.createdAt as number),
  };
}

function encodeNetwork(entry: NetworkEntry): Record<string, unknown> {
  return {
    version: DATA_FORMAT_VERSION,
    id: entry.id,
    name: entry.name,
    ...(entry.secret === undefined ? {} : { secret: toBase64url(entry.secret) }),
    bootstrap: [...entry.bootstrap],
    settings: entry.settings,
    peerKey: toBase64url(entry.peerKey),
    port: entry.port,
    certificate: entry.certificate,
    announce: [...entry.announce],
    origin: entry.origin,
    createdAt: entry.createdAt,
  };
}

function decodeSettings(file: string, value: unknown): Partial<NodeSettings> {
  const data = object(file, value);
  const out: Partial<NodeSettings> = {};
  if (data.host !== undefined) out.host = field(file, typeof data.host === 'string', 'settings.host', data.host as string);
  if (data.announce !== undefined) out.announce = field(file, isStringArray(data.announce), 'settings.announce', data.announce as string[]);
  if (data.open !== undefined) out.open = field(file, typeof data.open === 'boolean', 'settings.open', data.open as boolean);
  if (data.privateAddresses !== undefined) {
    out.privateAddresses = field(file, typeof data.privateAddresses === 'boolean', 'settings.privateAddresses', data.privateAddresses as boolean);
  }
  if (data.maxHostedNetworks !== undefined) {
    const ok = typeof data.maxHostedNetworks === 'number' && Number.isSafeInteger(data.maxHostedNetworks) && data.maxHostedNetworks >= 0;
    out.maxHostedNetworks = field(file, ok, 'settings.maxHostedNetworks', data.maxHostedNetworks as number);
  }
  return out;
}

/** Data directories this process holds the run lock of (a pid file naming our own pid is stale otherwise: pid reuse in containers). */
const heldLocks = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException)?.code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------

export class DataDir {
  readonly path: string;
  readonly networksPath: string;
  /** Where each network's DHT record database lives (dht/<networkId>/). */
  readonly dhtStoresPath: string;

  private constructor(dir: string) {
    this.path = dir;
    this.networksPath = path.join(dir, NETWORKS_DIR);
    this.dhtStoresPath = path.join(dir, DHT_STORES_DIR);
  }

  /**
   * Opens the data directory, creating it (mode 0700) and node.json when missing.
   * @throws DataDirInvalidError (not a p2pb-node directory), UnsupportedDataFormatError
   */
  static async open(dir: string): Promise<DataDir> {
    const data = new DataDir(path.resolve(dir));
    await mkdir(data.networksPath, { recursive: true, mode: DATA_DIR_MODE });
    await chmod(data.path, DATA_DIR_MODE).catch(() => {});
    const file = data.#file(NODE_FILE);
    try {
      const node = object(file, await readJson(file));
      if (node.format !== DATA_DIR_FORMAT) throw new DataDirInvalidError(file, `not a ${DATA_DIR_FORMAT} data directory`);
      checkVersion(file, node);
      decodeSettings(file, node.settings ?? {});
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await writeJsonAtomic(file, { format: DATA_DIR_FORMAT, version: DATA_FORMAT_VERSION, createdAt: Date.now(), settings: {} });
    }
    return data;
  }

  #file(name: string): string {
    return path.join(this.path, name);
  }

  networkFile(id: string): string {
    return path.join(this.networksPath, `${id}${NETWORK_FILE_SUFFIX}`);
  }

  // -------------------------------------------------------------------------------------------
  // Settings

  /** The stored settings over the defaults. */
  async settings(): Promise<NodeSettings> {
    const file = this.#file(NODE_FILE);
    const node = object(file, await readJson(file));
    return { ...DEFAULT_SETTINGS, ...decodeSettings(file, node.settings ?? {}) };
  }

  /** Stores settings given on the command line, so later commands and restarts use them too. */
  async updateSettings(patch: Partial<NodeSettings>): Promise<NodeSettings> {
    const file = this.#file(NODE_FILE);
    const node = object(file, await readJson(file));
    const current = decodeSettings(file, node.settings ?? {});
    const next = { ...current };
    for (const [key, value] of Object.entries(patch)) {
      if (value !== undefined) (next as Record<string, unknown>)[key] = value;
    }
    if (JSON.stringify(next) !== JSON.stringify(current)) {
      await writeJsonAtomic(file, { ...node, settings: next });
    }
    return { ...DEFAULT_SETTINGS, ...next };
  }

  // -------------------------------------------------------------------------------------------
  // Front door

  /** The front door's key, port and certificate; made (and a port picked) on first use. */
  async frontDoor(host: string): Promise<FrontDoorEntry> {
    const file = this.#file(FRONT_DOOR_FILE);
    try {
      const data = object(file, await readJson(file));
      checkVersion(file, data);
      return {
        ...decodeKey(file, data.peerKey),
        port: field(file, isPort(data.port), 'port', data.port as number),
        certificate: field(file, isWebRTCCertificate(data.certificate), 'certificate', data.certificate as WebRTCCertificate),
      };
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const { entries } = await this.listNetworks();
    const peerKey = await createPeerKey();
    const entry: FrontDoorEntry = {
      peerKey,
      peerId: peerIdOfKey(peerKey),
      port: await pickPort(host, { exclude: new Set(entries.map((e) => e.port)) }),
      certificate: await createWebRTCCertificate(),
    };
    await writeJsonAtomic(file, {
      version: DATA_FORMAT_VERSION,
      peerKey: toBase64url(entry.peerKey),
      port: entry.port,
      certificate: entry.certificate,
    });
    return entry;
  }

  // -------------------------------------------------------------------------------------------
  // Networks

  /** Every network file, decoded; files that do not decode are returned as problems, not thrown. */
  async listNetworks(): Promise<{ entries: NetworkEntry[]; problems: Error[] }> {
    const names = (await readdir(this.networksPath)).filter((n) => n.endsWith(NETWORK_FILE_SUFFIX)).sort();
    const entries: NetworkEntry[] = [];
    const problems: Error[] = [];
    for (const name of names) {
      const file = path.join(this.networksPath, name);
      try {
        entries.push(decodeNetwork(file, await readJson(file)));
      } catch (error) {
        if (isNotFound(error)) continue; // removed while we listed
        problems.push(error as Error);
      }
    }
    entries.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    return { entries, problems };
  }

  /** The network with this id, or the only one whose id starts with it. @throws NetworkNotFoundError, AmbiguousNetworkIdError */
  async getNetwork(idOrPrefix: string): Promise<NetworkEntry> {
    if (isNetworkId(idOrPrefix)) {
      const file = this.networkFile(idOrPrefix);
      try {
        return decodeNetwork(file, await readJson(file));
      } catch (error) {
        if (isNotFound(error)) throw new NetworkNotFoundError(idOrPrefix);
        throw error;
      }
    }
    const { entries } = await this.listNetworks();
    const matches = idOrPrefix === '' ? [] : entries.filter((e) => e.id.startsWith(idOrPrefix));
    if (matches.length === 0) throw new NetworkNotFoundError(idOrPrefix);
    if (matches.length > 1) throw new AmbiguousNetworkIdError(idOrPrefix, matches.map((e) => e.id));
    return matches[0]!;
  }

  async hasNetwork(id: string): Promise<boolean> {
    try {
      await stat(this.networkFile(id));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Adds a network: a new peer key, certificate and port of its own.
   * @throws NetworkExistsError, PortUnavailableError, DataDirInvalidError (bad name or id)
   */
  async addNetwork(input: AddNetworkInput): Promise<NetworkEntry> {
    const id = input.id ?? createNetworkId();
    if (!isNetworkId(id)) throw new DataDirInvalidError(this.networkFile(String(id)), 'not a network id');
    const problem = displayNameProblem(input.name);
    if (problem !== null) throw new DataDirInvalidError(this.networkFile(id), `bad network name: ${problem}`);
    if (await this.hasNetwork(id)) throw new NetworkExistsError(id);
    const settings = await this.settings();
    const { entries } = await this.listNetworks();
    const frontDoorPort = await this.#frontDoorPort();
    const exclude = new Set([...entries.map((e) => e.port), ...(frontDoorPort === undefined ? [] : [frontDoorPort])]);
    const peerKey = await createPeerKey();
    const secret = input.secret ?? (input.closed === true ? createNetworkSecret() : undefined);
    const entry: NetworkEntry = {
      id,
      name: input.name,
      ...(secret === undefined ? {} : { secret }),
      bootstrap: [...(input.bootstrap ?? [])],
      settings: { ...input.settings },
      peerKey,
      peerId: peerIdOfKey(peerKey),
      port: await pickPort(settings.host, { preferred: input.port, exclude }),
      certificate: await createWebRTCCertificate(),
      announce: [],
      origin: input.origin,
      createdAt: Date.now(),
    };
    // O_EXCL on the final name would not be atomic with the content; a second check is enough
    // for the one case that races (two commands adding the same invite at once).
    if (await this.hasNetwork(id)) throw new NetworkExistsError(id);
    await writeJsonAtomic(this.networkFile(id), encodeNetwork(entry));
    return entry;
  }

  /** Adds the network an invite describes (origin 'joined'). */
  addFromInvite(invite: NetworkInvite, options: { port?: number } = {}): Promise<NetworkEntry> {
    return this.addNetwork({
      id: invite.networkId,
      name: invite.name,
      ...(invite.secret === undefined ? {} : { secret: invite.secret }),
      bootstrap: invite.bootstrap,
      settings: invite.settings,
      origin: 'joined',
      ...(options.port === undefined ? {} : { port: options.port }),
    });
  }

  /** Removes a network's file (its key goes with it). @throws NetworkNotFoundError */
  async removeNetwork(id: string): Promise<void> {
    try {
      await stat(this.networkFile(id));
    } catch {
      throw new NetworkNotFoundError(id);
    }
    await rm(this.networkFile(id));
  }

  /** The directory of a network's DHT record database (dht-store.ts opens it). */
  dhtStorePath(id: string): string {
    if (!isNetworkId(id)) throw new DataDirInvalidError(path.join(this.dhtStoresPath, String(id)), 'not a network id');
    return path.join(this.dhtStoresPath, id);
  }

  /**
   * Deletes the DHT record databases of networks that have no file in networks/ any more (left,
   * or never started), except those in `keep`. Only the `run` holding the lock calls this: it
   * alone has the databases open. @returns the ids whose database was deleted
   */
  async removeStaleDhtStores(keep: ReadonlySet<string> = new Set()): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dhtStoresPath);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
    const removed: string[] = [];
    for (const id of names) {
      if (!isNetworkId(id) || keep.has(id) || (await this.hasNetwork(id))) continue;
      await rm(path.join(this.dhtStoresPath, id), { recursive: true, force: true });
      removed.push(id);
    }
    return removed;
  }

  async #frontDoorPort(): Promise<number | undefined> {
    try {
      const data = object(this.#file(FRONT_DOOR_FILE), await readJson(this.#file(FRONT_DOOR_FILE)));
      return isPort(data.port) ? data.port : undefined;
    } catch {
      return undefined;
    }
  }

  // -------------------------------------------------------------------------------------------
  // The run lock

  /** The pid of the `run` serving this directory, if one is alive. */
  async runningPid(): Promise<number | undefined> {
    try {
      const pid = Number.parseInt(await readFile(this.#file(LOCK_FILE), 'utf8'), 10);
      if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
      if (pid === process.pid) return heldLocks.has(this.path) ? pid : undefined;
      return processAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Takes the run lock (a pid file; a stale one, whose process is gone, is replaced).
   * @returns a function that releases it. @throws DataDirLockedError
   */
  async lock(): Promise<() => Promise<void>> {
    const file = this.#file(LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, SECRET_FILE_MODE);
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        heldLocks.add(this.path);
        return async () => {
          heldLocks.delete(this.path);
          const owner = await readFile(file, 'utf8').catch(() => '');
          if (Number.parseInt(owner, 10) === process.pid) await rm(file, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException)?.code !== 'EEXIST') throw error;
        const pid = await this.runningPid();
        if (pid !== undefined) throw new DataDirLockedError(this.path, pid);
        await rm(file, { force: true }); // stale: its process is gone
      }
    }
    throw new DataDirLockedError(this.path, -1);
  }
}
