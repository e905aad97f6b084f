/**
 * Markup built only through the `html` tagged template: every interpolated string is escaped unless it is itself
 * markup made by `html`, so text from a capture (interface names, process names, addresses, evidence that quotes
 * them) can never become an element or an attribute. Templates quote every attribute value ("…"), which the escape
 * covers.
 */

/** Markup that is safe to insert as it is: only `html` and `raw` make it. */
export class SafeHtml {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

/** What a template may interpolate. `undefined`, `null` and `false` render as nothing (conditional parts). */
export type HtmlValue = SafeHtml | string | number | undefined | null | false | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text with the five characters that matter in HTML text and quoted attributes replaced by references. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * A number as markup: integers as they are (µs timestamps stay exact), other numbers rounded to two decimals, which
 * is finer than a pixel. A non-finite number is a bug in the caller, never something to draw.
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`cannot render ${value} into markup`);
  if (Number.isInteger(value)) return String(value);
  return String(Math.round(value * 100) / 100);
}

function render(value: HtmlValue): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof SafeHtml) return value.text;
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return escapeHtml(value);
  return value.map(render).join('');
}

/** The template tag: literal parts as written, interpolations escaped (strings) or inserted (SafeHtml). */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Markup written by this program itself (the stylesheet), never text from input. */
export function raw(text: string): SafeHtml {
  return new SafeHtml(text);
}
