/**
 * The one way the dashboard writes HTML: the `html` tagged template escapes
 * every interpolated value unless it is already {@link SafeHtml}, i.e. the result
 * of another `html` template. Everything read from Redis (job data, tags,
 * klass, queue, worker and group names, messages) is untrusted, so escaping
 * is the default and there is no way to opt out with a plain string.
 */

/**
 * Markup that is already safe to emit. Only {@link html} makes it: the
 * class itself is not exported, so no other module can wrap a raw string.
 */
class SafeHtml {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  toString(): string {
    return this.#text;
  }
}

export type { SafeHtml };

/** What may be interpolated into {@link html}: text is escaped, SafeHtml passes, lists are concatenated. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * Escape text for element content and for quoted attribute values alike, so
 * a template never has to know where a value lands.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString();
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value));
}

/** Build markup; every interpolation is escaped unless it is SafeHtml. `false`, `null` and `undefined` render nothing. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}
