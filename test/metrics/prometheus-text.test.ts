import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText, valueOf } from '../helpers/prometheus-text.js';

// The test helper that reads scrapes must itself be right: examples from the exposition format.
describe('parsePrometheusText (test helper)', () => {
  it('reads families, labels with escapes, special values and timestamps', () => {
    const scrape = parsePrometheusText(
      [
        '# HELP http_requests_total The total number of HTTP requests.',
        '# TYPE http_requests_total counter',
        'http_requests_total{method="post",code="200"} 1027 1395066363000',
        'http_requests_total{method="post",code="400"}    3 1395066363000',
        'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
        'metric_without_labels 12.47',
        'something_weird{problem="division by zero"} +Inf -3982045',
        'not_a_number NaN',
        '',
      ].join('\n'),
    );
    assert.equal(scrape.types.get('http_requests_total'), 'counter');
    assert.equal(valueOf(scrape, 'http_requests_total', { code: '400' }), 3);
    assert.equal(valueOf(scrape, 'msdos_file_access_time_seconds', { path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' }), 1.458255915e9);
    assert.equal(valueOf(scrape, 'metric_without_labels'), 12.47);
    assert.equal(valueOf(scrape, 'something_weird'), Number.POSITIVE_INFINITY);
    assert.ok(Number.isNaN(valueOf(scrape, 'not_a_number')));
    assert.throws(() => valueOf(scrape, 'http_requests_total'), /found 2/);
  });

  const malformed = [
    ['no value', 'metric{a="b"}'],
    ['unterminated label value', 'metric{a="b} 1'],
    ['bad escape', 'metric{a="\\t"} 1'],
    ['bad value', 'metric 1,5'],
    ['repeated label', 'metric{a="1",a="2"} 1'],
    ['unknown type', '# TYPE metric countr'],
  ] as const;
  for (const [why, line] of malformed) {
    it(`refuses ${why}`, () => {
      assert.throws(() => parsePrometheusText(line), /line 1/);
    });
  }
});
