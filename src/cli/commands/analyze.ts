/**
 * `udptrack analyze FILE|-`: replay a capture through a firewall's UDP memory and report the flows, their
 * expirations and the inbound packets the model denies.
 */
import { TimelineCollector, analyzeCapture, profileJson, resolveProfile, type ProfileChoice } from '../../pipeline/index.js';
import { renderAnalyzeText } from '../../report/analyze.js';
import { buildAnalyzePage, renderHtmlPage } from '../../report/html/index.js';
import { renderConnLogFooter, renderConnLogHeader, renderConnLogLine } from '../../report/conn-log.js';
import { flowJsonText } from '../../report/flows.js';
import { UsageError } from '../errors.js';
import { checkHtmlTarget, inputName, writeHtmlFile } from '../html.js';
import { DeferredLines, type CliIo } from '../io.js';
import { openInput, progressReporter } from '../input.js';

/** Options of `analyze`, as commander parses them. */
export interface AnalyzeCliOptions extends ProfileChoice {
  format: 'text' | 'json' | 'ndjson' | 'conn';
  local?: string[];
  limit: string;
  progress?: boolean;
  html?: string;
}

/** Run `analyze`. */
export async function runAnalyze(file: string, options: AnalyzeCliOptions, io: CliIo): Promise<void> {
  const profile = resolveProfile(options);
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--limit must be a whole number, not '${options.limit}'`);
  if (options.html !== undefined) checkHtmlTarget(options.html);
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
  // --format json is written as the replay goes (flows in the order they end), so memory stays bounded by the
  // live flows; denials wait for the end in memory, then in a temporary file past a few MiB (DeferredLines).
  const deniedJson = new DeferredLines();
  let flowsWritten = 0;
  const report = await analyzeCapture(openInput(file, io), {
    file,
    profile,
    localNetworks: options.local?.flatMap((l) => l.split(',')).filter((l) => l !== ''),
    keep: format === 'text' ? limit : 0,
    onProgress: progress.update,
    onPacket: () => progress.packets++,
    timeline,
    onFirstPacket: (tsUs) => {
      firstUs = tsUs;
    },
    onLocal:
      format === 'ndjson'
        ? (local) => io.stdout.write(`${JSON.stringify({ type: 'local', ...local, profile: profile.name })}\n`)
        : format === 'json'
          ? (local) => io.stdout.write(`{\n"file": ${JSON.stringify(file)},\n"local": ${JSON.stringify(local)},\n"profile": ${JSON.stringify(profileJson(profile))},\n"flows": [`)
          : undefined,
    onFlowEnd:
      format === 'ndjson'
        ? (flow) => io.stdout.write(`{"type":"flow",${flowJsonText(flow).slice(1)}\n`)
        : format === 'json'
          ? (flow) => io.stdout.write(`${flowsWritten++ === 0 ? '\n' : ',\n'}${flowJsonText(flow)}`)
          : format === 'conn'
            ? (flow) => {
                writeConnHeader();
                io.stdout.write(`${renderConnLogLine(flow)}\n`);
              }
            : undefined,
    onDenial:
      format === 'ndjson'
        ? (denial) => io.stdout.write(`${JSON.stringify({ type: 'denial', ...denial })}\n`)
        : format === 'json'
          ? (denial) => deniedJson.add(JSON.stringify(denial))
          : undefined,
  }).catch((error: unknown) => {
    deniedJson.close();
    throw error;
  });
  progress.done();
  switch (format) {
    case 'json':
      io.stdout.write('\n],\n"denials": [');
      if (deniedJson.count > 0) {
        io.stdout.write('\n');
        deniedJson.drainTo(io.stdout, ',\n');
        io.stdout.write('\n');
      }
      io.stdout.write(`],\n"stats": ${JSON.stringify(report.stats)}\n}\n`);
      break;
    case 'ndjson':
      io.stdout.write(`${JSON.stringify({ type: 'stats', ...report.stats, local: report.local, profile: report.profile })}\n`);
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
