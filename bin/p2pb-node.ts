#!/usr/bin/env node
/**
 * p2pb-node: the P2P Browser always-on node. Runs on Node >= 22.18, which strips the TypeScript
 * types itself. Everything is in lib/node (`p2pb-node --help`, docs/node.md).
 */
import { main } from '../lib/node/cli.ts';
import { EXIT_GRACE } from '../lib/node/constants.ts';

// `p2pb-node list | head`: a closed pipe ends the output, not the process with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') return;
    throw error;
  });
}

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  onSignal: (signal, listener) => {
    process.on(signal, listener);
    return () => process.off(signal, listener);
  },
});
process.exitCode = code;
// Every node is stopped by now, but node-datachannel keeps a native handle open after its
// WebRTC-direct listeners stop: exit once the last lines are written.
setTimeout(() => process.exit(code), EXIT_GRACE).unref();
