/**
 * `udptrack simulate FILE|-`: replay one capture under several firewall models (and timeout values) in one pass.
 */
import { parseSweepSpec, resolveProfiles, simulateCapture } from '../../pipeline/index.js';
import { renderSimulateText } from '../../report/simulate.js';
import type { CliIo } from '../io.js';
import { openInput, progressReporter } from '../input.js';

/** Options of `simulate`, as commander parses them. */
export interface SimulateCliOptions {
  format: 'text' | 'json';
  profile?: string[];
  all?: boolean;
  udpTimeout?: string;
  sweep?: string;
  local?: string[];
  progress?: boolean;
}

/** Run `simulate`. */
export async function runSimulate(file: string, options: SimulateCliOptions, io: CliIo): Promise<void> {
  const profiles = resolveProfiles(options.profile ?? [], options.all === true, options.udpTimeout);
  const sweep = options.sweep === undefined ? undefined : parseSweepSpec(options.sweep);
  const progress = progressReporter(file, io, options.progress);
  const report = await simulateCapture(openInput(file, io), {
    profiles,
    sweep,
    localNetworks: options.local?.flatMap((l) => l.split(',')).filter((l) => l !== ''),
    onProgress: progress.update,
    onPacket: () => progress.packets++,
  });
  progress.done();
  if (options.format === 'json') {
    const { capture: _capture, ...doc } = report;
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    io.stdout.write(renderSimulateText(report));
  }
}
