/**
 * A parser for the Prometheus text exposition format (version 0.0.4), enough to read a scrape in
 * tests: `# HELP`/`# TYPE` lines, samples `name{label="value",...} value [timestamp]` with the
 * format's escapes (\\, \", \n) in label values. Anything else is an error, so a malformed scrape
 * fails the test instead of being read loosely.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Scrape {
  readonly samples: readonly Sample[];
  /** Metric family name -> type, from `# TYPE` lines. */
  readonly types: ReadonlyMap<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  text.split('\n').forEach((line, index) => {
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line);
      if (type !== null) {
        const [, name = '', kind = ''] = type;
        if (!TYPES.has(kind)) fail('unknown type');
        if (types.has(name)) fail('second TYPE line');
        types.set(name, kind);
      } else if (!/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line) && line.startsWith('# HELP')) {
        fail('bad HELP line');
      }
      return;
    }
    const name = NAME.exec(line)?.[0] ?? fail('no metric name');
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      rest = rest.slice(1);
      while (!rest.startsWith('}')) {
        const labelName = LABEL_NAME.exec(rest)?.[0] ?? fail('bad label name');
        if (labelName in labels) fail('repeated label');
        rest = rest.slice(labelName.length);
        if (!rest.startsWith('="')) fail('expected ="');
        rest = rest.slice(2);
        let value = '';
        for (;;) {
          const char = rest[0] ?? fail('unterminated label value');
          rest = rest.slice(1);
          if (char === '"') break;
          if (char === '\\') {
            const escaped = rest[0] ?? fail('unterminated escape');
            rest = rest.slice(1);
            if (escaped === 'n') value += '\n';
            else if (escaped === '\\' || escaped === '"') value += escaped;
            else fail('bad escape');
          } else {
            value += char;
          }
        }
        labels[labelName] = value;
        if (rest.startsWith(',')) rest = rest.slice(1);
        else if (!rest.startsWith('}')) fail('expected , or }');
      }
      rest = rest.slice(1);
    }
    const fields = rest.trim().split(/\s+/);
    if (!rest.startsWith(' ') || fields.length < 1 || fields.length > 2) fail('expected a value and an optional timestamp');
    const value = parseValue(fields[0] ?? '') ?? fail('bad value');
    if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) fail('bad timestamp');
    samples.push({ name, labels, value });
  });
  return { samples, types };
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Samples named `name` whose labels include every pair in `labels`. */
export function samplesOf(scrape: Scrape, name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
  return scrape.samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
}

/** The value of the one sample that matches; throws if none or several do. */
export function valueOf(scrape: Scrape, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const found = samplesOf(scrape, name, labels);
  if (found.length !== 1 || found[0] === undefined) {
    throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${found.length}`);
  }
  return found[0].value;
}

/** GET the scrape endpoint on 127.0.0.1 and parse it. */
export async function scrape(port: number): Promise<Scrape> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (response.status !== 200) throw new Error(`scrape answered ${response.status}`);
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.startsWith('text/plain; version=0.0.4')) throw new Error(`unexpected content-type ${contentType}`);
  return parsePrometheusText(await response.text());
}
