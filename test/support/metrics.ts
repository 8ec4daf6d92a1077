/**
 * Reading Prometheus text in tests: `name{labels}` → value, with the labels
 * sorted by name, so that lookups need not know the order prom-client
 * writes them in.
 */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*(?:\{.*\})?) (\S+)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.replace(/\{(.*)\}$/, (_, labels: string) => `{${labels.split(/,(?=\w+=")/).sort().join(',')}}`);
    values.set(key, Number(m[2]));
  }
  return values;
}
