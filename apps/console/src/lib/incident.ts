import type { VigilEvent } from '../api/event-stream';

/** Times in an incident timeline are UTC with milliseconds, so timelines from several people line up. */
function utc(iso: string): string {
  return iso.replace('T', ' ').replace('Z', ' UTC');
}

function describe(e: VigilEvent): string {
  const d = (e.data ?? {}) as Record<string, unknown>;
  const bits: string[] = [];
  const node = d['node'] as { host?: string; port?: number } | string | undefined;
  if (node) bits.push(typeof node === 'string' ? node : `${node.host}:${node.port}`);
  if (d['from'] !== undefined && d['to'] !== undefined) bits.push(`${String(d['from'])} → ${String(d['to'])}`);
  if (typeof d['sdownVotes'] === 'number') bits.push(`${d['sdownVotes']}/${String(d['voters'])} agents see it down (quorum ${String(d['quorum'])})`);
  for (const key of ['code', 'reason', 'trigger', 'target', 'epoch', 'error', 'until']) {
    const value = d[key];
    if (value !== undefined && value !== null && typeof value !== 'object') bits.push(`${key}: ${String(value)}`);
  }
  return bits.join('; ');
}

/** One incident as a Markdown timeline, to paste into a post-mortem. */
export function incidentMarkdown(title: string, events: VigilEvent[]): string {
  const lines = [`# ${title}`, '', `${events.length} events${events[0] ? `, ${utc(events[0].at)} to ${utc(events[events.length - 1]!.at)}` : ''}.`, ''];
  lines.push('| time (UTC) | cluster | event | actor | detail |', '| --- | --- | --- | --- | --- |');
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  for (const e of events) lines.push(`| ${utc(e.at)} | ${cell(e.cluster ?? '')} | ${e.type} | ${cell(e.actor)} | ${cell(describe(e))} |`);
  return lines.join('\n') + '\n';
}

/** Offers text as a file download. */
export function download(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/markdown;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
