/**
 * `udptrack simulate FILE|-`: replay one capture under several firewall models (and timeout values) in one pass.
 */
import { TimelineCollector, parseSweepSpec, resolveProfiles, simulateCapture } from '../../pipeline/index.js';
import { buildSimulatePage, renderHtmlPage } from '../../report/html/index.js';
import { writeJsonDocument } from '../../report/json-layout.js';
import { renderSimulateText } from '../../report/simulate.js';
import { checkHtmlTarget, inputName, writeHtmlFile } from '../html.js';
import type { CliIo } from '../io.js';
import { openInput, progressReporter, workerChoiceOf } from '../input.js';

/** Options of `simulate`, as commander parses them. */
export interface SimulateCliOptions {
  format: 'text' | 'json';
  profile?: string[];
  all?: boolean;
  udpTimeout?: string;
  sweep?: string;
  local?: string[];
  progress?: boolean;
  html?: string;
  threads?: string;
}

/** Run `simulate`. */
export async function runSimulate(file: string, options: SimulateCliOptions, io: CliIo): Promise<void> {
  const profiles = resolveProfiles(options.profile ?? [], options.all === true, options.udpTimeout);
  const sweep = options.sweep === undefined ? undefined : parseSweepSpec(options.sweep);
  if (options.html !== undefined) checkHtmlTarget(options.html);
  const worker = workerChoiceOf(options.threads);
  // A flow no profile breaks says nothing about the profiles: list it, draw only flows with denials.
  const timeline = options.html === undefined ? undefined : new TimelineCollector({ profiles, limits: { drawnExpired: 0 } });
  const progress = progressReporter(file, io, options.progress);
  const report = await simulateCapture(openInput(file, io), {
    profiles,
    sweep,
    timeline,
    localNetworks: options.local,
    onProgress: progress.update,
    worker,
  });
  progress.done();
  if (options.format === 'json') {
    const { capture: _capture, ...doc } = report;
    writeJsonDocument(doc, io.stdout);
  } else {
    io.stdout.write(renderSimulateText(report));
  }
  if (timeline !== undefined) writeHtmlFile(options.html!, renderHtmlPage(buildSimulatePage(inputName(file), report, timeline.finish())));
}
