/**
 * `udptrack analyze FILE|-`: replay a capture through a firewall's UDP memory and report the flows, their
 * expirations and the inbound packets the model denies.
 */
import { TimelineCollector, analyzeCapture, profileJson, resolveProfile, type ProfileChoice } from '../../pipeline/index.js';
import { renderAnalyzeText } from '../../report/analyze.js';
import { buildAnalyzePage, renderHtmlPage } from '../../report/html/index.js';
import { renderConnLogFooter, renderConnLogHeader, renderConnLogLine } from '../../report/conn-log.js';
import { writeDenialJson, writeFlowJson } from '../../report/flows.js';
import { JsonBytes, jsonPiece } from '../../report/json-bytes.js';
import { UsageError } from '../errors.js';
import { checkHtmlTarget, inputName, writeHtmlFile } from '../html.js';
import { DeferredBytes, type CliIo } from '../io.js';
import { openInput, progressReporter, workerChoiceOf } from '../input.js';

/** Options of `analyze`, as commander parses them. */
export interface AnalyzeCliOptions extends ProfileChoice {
  format: 'text' | 'json' | 'ndjson' | 'conn';
  local?: string[];
  limit: string;
  progress?: boolean;
  html?: string;
  threads?: string;
}

const NDJSON_FLOW_HEAD = jsonPiece('{"type":"flow",');
const NDJSON_DENIAL_HEAD = jsonPiece('{"type":"denial",');

/** Run `analyze`. */
export async function runAnalyze(file: string, options: AnalyzeCliOptions, io: CliIo): Promise<void> {
  const profile = resolveProfile(options);
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--limit must be a whole number, not '${options.limit}'`);
  if (options.html !== undefined) checkHtmlTarget(options.html);
  const worker = workerChoiceOf(options.threads);
  const timeline = options.html === undefined ? undefined : new TimelineCollector({ profiles: [profile] });
  const progress = progressReporter(file, io, options.progress);
  const format = options.format;
  let connHeaderWritten = false;
  let firstUs = -1;
  const writeConnHeader = (): void => {
    if (!connHeaderWritten) {
      io.stdout.write(renderConnLogHeader(firstUs < 0 ? 0 : firstUs));
      connHeaderWritten = true;
    }
  };
  // --format json and ndjson are written as the replay goes (flows in the order they end) through one byte writer,
  // so memory stays bounded by the live flows; json's denials wait for the end in memory, then in a temporary file
  // past 1 MiB (DeferredBytes).
  const out = new JsonBytes(io.stdout);
  const deferred = new DeferredBytes();
  const deniedOut = new JsonBytes(deferred);
  let flowsWritten = 0;
  let denialsWritten = 0;
  const report = await analyzeCapture(openInput(file, io), {
    file,
    profile,
    localNetworks: options.local,
    keep: format === 'text' ? limit : 0,
    worker,
    onProgress: progress.update,
    throttle: () => io.stdout.backpressure(),
    timeline,
    onFirstPacket: (tsUs) => {
      firstUs = tsUs;
    },
    onLocal:
      format === 'ndjson'
        ? (local) => out.text(`${JSON.stringify({ type: 'local', ...local, profile: profile.name })}\n`)
        : format === 'json'
          ? (local) => out.text(`{\n"file": ${JSON.stringify(file)},\n"local": ${JSON.stringify(local)},\n"profile": ${JSON.stringify(profileJson(profile))},\n"flows": [`)
          : undefined,
    onFlowEnd:
      format === 'ndjson'
        ? (flow) => {
            writeFlowJson(out, flow, NDJSON_FLOW_HEAD);
            out.text('\n');
          }
        : format === 'json'
          ? (flow) => {
              out.text(flowsWritten++ === 0 ? '\n' : ',\n');
              writeFlowJson(out, flow);
            }
          : format === 'conn'
            ? (flow) => {
                writeConnHeader();
                io.stdout.write(`${renderConnLogLine(flow)}\n`);
              }
            : undefined,
    onDenial:
      format === 'ndjson'
        ? (denial) => {
            writeDenialJson(out, denial, NDJSON_DENIAL_HEAD);
            out.text('\n');
          }
        : format === 'json'
          ? (denial) => {
              if (denialsWritten++ > 0) deniedOut.text(',\n');
              writeDenialJson(deniedOut, denial);
            }
          : undefined,
  }).catch((error: unknown) => {
    deferred.close();
    throw error;
  });
  progress.done();
  switch (format) {
    case 'json':
      out.text('\n],\n"denials": [');
      if (denialsWritten > 0) {
        out.text('\n');
        out.flush();
        deniedOut.flush();
        await deferred.drainTo(io.stdout);
        out.text('\n');
      }
      out.text(`],\n"stats": ${JSON.stringify(report.stats)}\n}\n`);
      out.flush();
      break;
    case 'ndjson':
      out.text(`${JSON.stringify({ type: 'stats', ...report.stats, local: report.local, profile: report.profile })}\n`);
      out.flush();
      break;
    case 'conn':
      writeConnHeader();
      io.stdout.write(renderConnLogFooter(report.stats.last_ts === null ? 0 : Date.parse(report.stats.last_ts) * 1000));
      break;
    default:
      io.stdout.write(renderAnalyzeText(report));
  }
  if (timeline !== undefined) writeHtmlFile(options.html!, renderHtmlPage(buildAnalyzePage({ ...report, file: inputName(file) }, timeline.finish())));
}
