/**
 * `udptrack explain`: why was each inbound UDP packet denied, does it matter, and what to change.
 */
import { readFileSync } from 'node:fs';
import { TimelineCollector, explainInputs, listVerdicts, parseLittleSnitchAlert, rankAlertCauses, resolveProfile, type ProfileChoice } from '../../pipeline/index.js';
import { buildVerdictJson, renderExplainText } from '../../report/explain.js';
import { renderInputDamageLine } from '../../report/stats.js';
import { buildExplainPage, renderHtmlPage } from '../../report/html/index.js';
import { UsageError } from '../errors.js';
import { checkHtmlTarget, inputName, writeHtmlFile } from '../html.js';
import type { CliIo } from '../io.js';

/** Options of `explain`, as commander parses them. */
export interface ExplainCliOptions extends ProfileChoice {
  denied?: string;
  capture?: string;
  denyPrefix?: string;
  local?: string[];
  littleSnitch?: string;
  littleSnitchFile?: string;
  format: 'text' | 'json';
  html?: string;
}

/** A Little Snitch alert alone: parse it and rank the causes for a UDP client with no capture at hand. */
function explainAlert(text: string, options: ExplainCliOptions, io: CliIo): void {
  const alert = parseLittleSnitchAlert(text);
  const causes = rankAlertCauses(alert);
  if (options.format === 'json') {
    const { cannotBeDelayed: _delayed, ...fields } = alert;
    io.stdout.write(`${JSON.stringify({ alert: fields, causes }, null, 2)}\n`);
    return;
  }
  const out = [
    `Alert: ${alert.direction} ${alert.protocol.toUpperCase()} from ${alert.remote} to ${alert.process}${alert.date ? ` on ${alert.date}` : ''}`,
    '',
    'Most likely causes, with the commands that tell them apart:',
  ];
  causes.forEach((c, i) => {
    out.push('', `${i + 1}. ${c.cause} (${c.likelihood}): ${c.why}`);
    for (const command of c.confirm) out.push(`     confirm: ${command}`);
    for (const remedy of c.remedy) out.push(...remedy.split('\n').map((line, k) => (k === 0 ? `     remedy:  ${line}` : `              ${line}`)));
  });
  io.stdout.write(`${out.join('\n')}\n`);
}

/** Run `explain` on a denial log and/or a capture. */
export async function runExplain(options: ExplainCliOptions, io: CliIo): Promise<void> {
  if (options.html !== undefined) {
    if (options.denied === undefined && options.capture === undefined) {
      throw new UsageError('--html draws the packets of --denied or --capture; a Little Snitch alert alone has none to draw');
    }
    checkHtmlTarget(options.html);
  }
  if (options.littleSnitch !== undefined || options.littleSnitchFile !== undefined) {
    let text = options.littleSnitch;
    if (options.littleSnitchFile !== undefined) {
      try {
        text = readFileSync(options.littleSnitchFile === '-' ? 0 : options.littleSnitchFile, 'utf8');
      } catch (error) {
        throw new UsageError(`${options.littleSnitchFile}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    if (options.denied === undefined && options.capture === undefined) {
      explainAlert(text ?? '', options, io);
      return;
    }
    // With a capture or log as well, the alert only confirms which flow to look at: the evidence decides.
    parseLittleSnitchAlert(text ?? '');
  }
  if (options.denied === undefined && options.capture === undefined) {
    throw new UsageError('explain needs --denied FILE (pflog or NFLOG denial log), --capture FILE, or --little-snitch TEXT');
  }
  const profileGiven = options.profile !== undefined || options.udpTimeout !== undefined || options.firewallConfig !== undefined;
  const profile = resolveProfile(options);
  const timeline = options.html === undefined ? undefined : new TimelineCollector({ profiles: [profile] });
  const result = await explainInputs({
    timeline,
    deniedFile: options.denied,
    captureFile: options.capture,
    profile,
    profileGiven,
    localNetworks: options.local,
    denyPrefix: options.denyPrefix,
  });
  const est = result.timeoutEstimate;
  const estimate =
    est === undefined
      ? undefined
      : est.longest_passed_s > 0
        ? `estimated from the log: between ${est.longest_passed_s} s (longest idle gap that passed) and ${est.shortest_denied_s} s (shortest denied)`
        : `estimated from the log: below ${est.shortest_denied_s} s (the shortest idle gap that was denied; no idle gap passed)`;
  if (options.format === 'json') {
    const doc: Record<string, unknown> = { local: result.local, profile: result.profile };
    if (result.timeoutEstimate !== undefined) doc['timeout_estimate'] = result.timeoutEstimate;
    doc['verdicts'] = result.explanations.map(buildVerdictJson);
    doc['damage'] = result.damage;
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    io.stdout.write(
      renderExplainText(result.explanations, {
        local: `${result.local.addresses.join(', ') || '(unknown)'} — ${result.local.reason}`,
        profile: `${result.profile.name} (${Object.entries(result.profile.timeouts).filter(([k]) => !k.startsWith('adaptive') && k !== 'states').map(([k, v]) => `${k}=${v}s`).join(', ')})`,
        estimate,
        damage: result.damage.map((d) => renderInputDamageLine(d, 'explained')),
      }),
    );
  }
  if (timeline !== undefined) {
    const notDrawn = timeline.attachExplanations(result.explanations);
    const inputs = [options.denied, options.capture].filter((f) => f !== undefined).map(inputName);
    const page = buildExplainPage(
      {
        inputs,
        local: result.local,
        profile: { name: profile.name, title: profile.title, timeouts: result.profile.timeouts },
        timeoutEstimate: estimate,
        explanations: result.explanations,
        notDrawn: listVerdicts(notDrawn),
      },
      timeline.finish(),
    );
    writeHtmlFile(options.html!, renderHtmlPage(page));
  }
}
