/**
 * `p2pb-node`: the always-on node's command line (bin/p2pb-node.ts only calls main()).
 * Usage: USAGE below and docs/node.md.
 */
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { P2pbError } from '../util/errors.ts';
import { decodeInvite } from '../net/invite.ts';
import { offlineSummary } from './summary.ts';
import type { NetworkSummary } from './summary.ts';
import { SHUTDOWN_TIMEOUT } from './constants.ts';
import { DataDir, defaultDataDir } from './data-dir.ts';
import type { NodeSettings } from './data-dir.ts';
import { UsageError } from './errors.ts';
import { createLogSink } from './log.ts';
import { packAppFolder } from './pack-app.ts';

export const USAGE = `Usage: p2pb-node [command] [options]

The P2P Browser always-on node: relay, bootstrap and DHT server for one or many networks.

Commands:
  run                  serve every network of the data directory (the default command)
  create <name>        add a new network and print its invite link (--closed: members only)
  join <invite-link>   add a network from a web+p2p:invite/… link
  list                 list the networks of the data directory, with their invite links
  leave <id>           remove a network (an id or a unique prefix of one)
  pack-app <dir>       check an app folder as the extension will and pack it into one
                       file (--out, default <id>.p2papp) to publish from the app page
  help                 show this text

Options:
  --data <dir>         data directory (default $P2PB_NODE_DATA, else ~/.p2pb-node)
  --host <ip>          address to listen on (default 0.0.0.0)
  --announce <addr>    IP or DNS name to announce and put in invites instead (repeatable)
  --open / --no-open   let browsers have new networks hosted here (an open community node)
  --private-addresses  keep private and loopback addresses in DHT answers (LAN nodes)
  --max-hosted <n>     networks browsers may create on an open node (default 100)
  --closed             (create) a closed network: its invite carries the secret
  --port <n>           (create, join) the port of the new network (default: a free one)
  --out <file>         (pack-app) where to write the package
  --json               machine-readable output (one JSON object per line)
  --verbose            debug logging
  -h, --help           show this text

--host, --announce, --open, --private-addresses and --max-hosted are stored in the data
directory and apply to every later command until changed. A running node follows create, join
and leave made by another p2pb-node process within a second (SIGHUP makes it re-read at once).`;

export interface CliIO {
  stdout: Pick<Writable, 'write'>;
  stderr: Pick<Writable, 'write'>;
  env: Record<string, string | undefined>;
  /** Registers the shutdown signals (the real CLI: process.once on SIGINT/SIGTERM, SIGHUP). */
  onSignal?: (signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', listener: () => void) => () => void;
}

const OPTIONS = {
  data: { type: 'string' },
  host: { type: 'string' },
  announce: { type: 'string', multiple: true },
  open: { type: 'boolean' },
  'no-open': { type: 'boolean' },
  'private-addresses': { type: 'boolean' },
  'max-hosted': { type: 'string' },
  closed: { type: 'boolean' },
  port: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function integer(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} expects an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function settingsFrom(values: Values): Partial<NodeSettings> {
  if (values.open === true && values['no-open'] === true) throw new UsageError('--open and --no-open contradict each other');
  if (values.host !== undefined && !/^[0-9.]+$|:/.test(values.host)) throw new UsageError('--host expects an IP address');
  return {
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(values.announce === undefined ? {} : { announce: values.announce }),
    ...(values.open === true ? { open: true } : values['no-open'] === true ? { open: false } : {}),
    ...(values['private-addresses'] === true ? { privateAddresses: true } : {}),
    ...(values['max-hosted'] === undefined ? {} : { maxHostedNetworks: integer('max-hosted', values['max-hosted'], 0, 100_000) }),
  };
}

function printNetwork(io: CliIO, summary: NetworkSummary, json: boolean, servedBy?: number): void {
  if (json) {
    io.stdout.write(`${JSON.stringify({ event: 'network', ...summary, ...(servedBy === undefined ? {} : { servedBy }) })}\n`);
    return;
  }
  const state = summary.running
    ? `${summary.connections} connection(s)`
    : servedBy === undefined
      ? 'not running'
      : `served by pid ${servedBy}`;
  io.stdout.write(
    [
      `Network "${summary.name}" ${summary.id}`,
      `  ${summary.closed ? 'closed' : 'open'}, ${summary.origin}, port ${summary.port} (TCP ws + UDP webrtc-direct), peer ${summary.peerId}, ${state}`,
      ...summary.addresses.map((address) => `  listen: ${address}`),
      `  invite: ${summary.invite}`,
      '',
    ].join('\n'),
  );
}

/** Runs one command; resolves with the process exit code. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (error) {
    io.stderr.write(`p2pb-node: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const [command = 'run', ...rest] = positionals;
  if (values.help === true || command === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const json = values.json === true;
  try {
    const dataPath = values.data ?? defaultDataDir(io.env);
    const settingsPatch = settingsFrom(values);
    const expectArgs = (count: number, what: string) => {
      if (rest.length !== count) throw new UsageError(`${command} expects ${what}`);
    };
    switch (command) {
      case 'run':
        expectArgs(0, 'no arguments');
        return await run(io, dataPath, settingsPatch, { json, verbose: values.verbose === true });
      case 'create': {
        expectArgs(1, 'a network name: p2pb-node create <name> [--closed]');
        const dataDir = await DataDir.open(dataPath);
        const settings = await dataDir.updateSettings(settingsPatch);
        const entry = await dataDir.addNetwork({
          name: rest[0]!,
          closed: values.closed === true,
          origin: 'created',
          port: integer('port', values.port, 1, 65535),
        });
        const summary = offlineSummary(entry, settings);
        await reportAdded(io, dataDir, summary, json, 'created');
        return 0;
      }
      case 'join': {
        expectArgs(1, 'an invite link: p2pb-node join <web+p2p:invite/…>');
        const invite = decodeInvite(rest[0]!);
        const dataDir = await DataDir.open(dataPath);
        const settings = await dataDir.updateSettings(settingsPatch);
        const entry = await dataDir.addFromInvite(invite, { port: integer('port', values.port, 1, 65535) });
        await reportAdded(io, dataDir, offlineSummary(entry, settings), json, 'joined');
        return 0;
      }
      case 'list': {
        expectArgs(0, 'no arguments');
        const dataDir = await DataDir.open(dataPath);
        const settings = await dataDir.updateSettings(settingsPatch);
        const { entries, problems } = await dataDir.listNetworks();
        for (const problem of problems) io.stderr.write(`p2pb-node: skipping ${problem.message}\n`);
        const pid = await dataDir.runningPid();
        if (!json) {
          io.stdout.write(
            `${entries.length} network(s) in ${dataDir.path}${pid === undefined ? '' : ` (served by p2pb-node run, pid ${pid})`}\n\n`,
          );
        }
        for (const entry of entries) printNetwork(io, offlineSummary(entry, settings), json, pid);
        return 0;
      }
      case 'leave': {
        expectArgs(1, 'a network id: p2pb-node leave <id>');
        const dataDir = await DataDir.open(dataPath);
        const entry = await dataDir.getNetwork(rest[0]!);
        await dataDir.removeNetwork(entry.id);
        const pid = await dataDir.runningPid();
        if (json) io.stdout.write(`${JSON.stringify({ event: 'left', id: entry.id, name: entry.name })}\n`);
        else {
          io.stdout.write(`Left network "${entry.name}" ${entry.id}; its key for that network is deleted.\n`);
          if (pid !== undefined) io.stdout.write(`The running node (pid ${pid}) stops serving it within a second.\n`);
        }
        return 0;
      }
      case 'pack-app': {
        expectArgs(1, 'an app folder: p2pb-node pack-app <dir> [--out <file>]');
        const packed = await packAppFolder(rest[0]!, values.out);
        if (json) io.stdout.write(`${JSON.stringify({ event: 'packed', ...packed })}\n`);
        else {
          io.stdout.write(
            `Packed app "${packed.id}" (${packed.name} ${packed.version}): ${packed.files} files, ${packed.bytes} bytes -> ${packed.out}\n` +
              `  reads: ${packed.reads.join(', ') || 'nothing'}; writes: ${packed.writes.join(', ') || 'nothing'}\n` +
              'Publish it from the extension\'s app page (app.html, "Publish an app") as the identity that should sign it.\n',
          );
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`p2pb-node: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    const code = error instanceof P2pbError ? error.code : 'ERROR';
    io.stderr.write(`p2pb-node: ${(error as Error)?.message ?? error} [${code}]\n`);
    return 1;
  }
}

async function reportAdded(io: CliIO, dataDir: DataDir, summary: NetworkSummary, json: boolean, event: string): Promise<void> {
  const pid = await dataDir.runningPid();
  if (json) {
    io.stdout.write(`${JSON.stringify({ event, ...summary, servedBy: pid ?? null })}\n`);
    return;
  }
  io.stdout.write(`${event === 'created' ? 'Created' : 'Joined'} network "${summary.name}" ${summary.id} in ${dataDir.path}\n\n`);
  printNetwork(io, summary, false);
  io.stdout.write(
    pid === undefined
      ? 'No node serves this data directory right now: `p2pb-node run` serves it.\n'
      : `The running node (pid ${pid}) starts serving it within a second.\n`,
  );
}

async function run(
  io: CliIO,
  dataPath: string,
  settingsPatch: Partial<NodeSettings>,
  options: { json: boolean; verbose: boolean },
): Promise<number> {
  const dataDir = await DataDir.open(dataPath);
  await dataDir.updateSettings(settingsPatch);
  const sink = createLogSink({ level: options.verbose ? 'debug' : 'info', stream: io.stderr });
  // Loaded here: every libp2p transport takes a second or more to import, and only `run` needs them.
  const { AlwaysOnNode } = await import('./always-on-node.ts');
  const node = new AlwaysOnNode({ dataDir: dataPath, logSink: sink });
  let ready = false;
  node.addEventListener('network:started', (event) => {
    if (ready) printNetwork(io, (event as CustomEvent<NetworkSummary>).detail, options.json);
  });
  node.addEventListener('network:stopped', (event) => {
    if (ready && options.json) io.stdout.write(`${JSON.stringify({ event: 'stopped', ...(event as CustomEvent).detail })}\n`);
  });

  const stopRequested = Promise.withResolvers<'SIGINT' | 'SIGTERM'>();
  const unregister: Array<() => void> = [];
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    unregister.push(
      io.onSignal?.(signal, () => {
        if (stopping) {
          io.stderr.write('p2pb-node: second signal, exiting without a clean shutdown\n');
          process.exit(130);
        }
        stopping = true;
        stopRequested.resolve(signal);
      }) ?? (() => {}),
    );
  }
  unregister.push(io.onSignal?.('SIGHUP', () => void node.reload().catch(() => {})) ?? (() => {}));

  try {
    const startedAt = performance.now();
    try {
      await node.start();
    } catch (error) {
      unregister.forEach((off) => off());
      throw error;
    }
    const networks = await node.networks();
    const frontDoor = node.frontDoorAddresses();
    const startMs = Math.round(performance.now() - startedAt);
    if (options.json) {
      io.stdout.write(`${JSON.stringify({ event: 'ready', dataDir: dataDir.path, open: node.settings.open, frontDoor, networks, startMs })}\n`);
    } else {
      io.stdout.write(
        [
          `P2P Browser always-on node, data directory ${dataDir.path} (started in ${startMs} ms)`,
          `Front door (${node.settings.open ? 'open: browsers may have new networks hosted here' : 'not open: it hosts only the networks added here'}):`,
          ...frontDoor.map((address) => `  ${address}`),
          '',
          '',
        ].join('\n'),
      );
      for (const summary of networks) printNetwork(io, summary, false);
      io.stdout.write(
        `${networks.length === 0 ? 'No networks yet: `p2pb-node create <name>` adds one (this node picks it up).\n' : ''}Ready. Ctrl-C or SIGTERM stops; SIGHUP re-reads the data directory.\n`,
      );
    }
    ready = true;
    const signal = await stopRequested.promise;
    sink.info(`[p2pb:node] ${signal}: shutting down`);
    const timer = setTimeout(() => {
      io.stderr.write(`p2pb-node: shutdown took longer than ${SHUTDOWN_TIMEOUT} ms\n`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT);
    timer.unref();
    await node.stop();
    clearTimeout(timer);
    return 0;
  } finally {
    unregister.forEach((off) => off());
  }
}
