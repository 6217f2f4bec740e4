import assert from 'node:assert/strict';
import { domainOf, encodeUsername, MAX_BYTES_PER_LINE, parseSquidLine } from '../../../secondary/proxy/squid-log-parser';
import { UsageAggregator } from '../../../secondary/proxy/usage-aggregator';

describe('parseSquidLine()', () => {
  describe('native format', () => {
    it('reads time, user, domain, reply size and result code', () => {
      const line = '1700000000.123    150 127.0.0.1 TCP_MISS/200 10485 GET http://Example.COM:8080/file?q=1 alice HIER_DIRECT/10.0.0.1 text/html';
      assert.deepEqual(parseSquidLine(line), {
        kind: 'usage',
        timeMs: 1700000000123,
        username: 'alice',
        domain: 'example.com',
        bytesIn: 10485,
        bytesOut: 0,
        cacheHit: false,
      });
    });

    it('takes the host of a CONNECT tunnel from host:port', () => {
      const p = parseSquidLine('1700000000.000  20000 10.1.2.3 TCP_TUNNEL/200 52000 CONNECT www.example.org:443 bob HIER_DIRECT/1.2.3.4 -');
      assert.equal(p.kind === 'usage' && p.domain, 'www.example.org');
    });

    it('marks TCP_HIT and TCP_MEM_HIT as cache hits, TCP_REFRESH_MODIFIED not', () => {
      const at = (code: string): boolean | undefined => {
        const p = parseSquidLine(`1700000000.000 1 10.0.0.1 ${code}/200 100 GET http://a.test/ u - text/plain`);
        return p.kind === 'usage' ? p.cacheHit : undefined;
      };
      assert.equal(at('TCP_HIT'), true);
      assert.equal(at('TCP_MEM_HIT'), true);
      assert.equal(at('TCP_REFRESH_MODIFIED'), false);
      assert.equal(at('TCP_MISS'), false);
    });

    it('treats user "-" as unauthenticated, not as a user called "-"', () => {
      assert.deepEqual(parseSquidLine('1700000000.000 0 10.0.0.1 TCP_MISS/200 3900 GET http://a.test/ - HIER_DIRECT/1.2.3.4 text/html'), { kind: 'anonymous' });
    });

    it('does not charge requests Squid refused (the 403 block page, the 407 login prompt)', () => {
      assert.deepEqual(parseSquidLine('1700000000.000 0 10.0.0.1 TCP_DENIED/403 3900 GET http://a.test/ bob HIER_NONE/- text/html'), { kind: 'denied' });
      assert.deepEqual(parseSquidLine('Q1 1700000000.000 10.0.0.1 TCP_DENIED/407 3900 0 GET a.test -'), { kind: 'denied' });
    });
  });

  describe('recommended Q1 format', () => {
    it('reads bytes in and out, domain and the URL-encoded user', () => {
      const line = `Q1 1700000001.500 10.0.0.9 TCP_MISS/200 2048 512 POST upload.test ${encodeUsername('José Müller')}`;
      assert.deepEqual(parseSquidLine(line), {
        kind: 'usage',
        timeMs: 1700000001500,
        username: 'José Müller',
        domain: 'upload.test',
        bytesIn: 2048,
        bytesOut: 512,
        cacheHit: false,
      });
    });

    it('decodes a name with spaces and percent signs exactly as Squid escapes them', () => {
      assert.equal(encodeUsername('a b%c'), 'a%20b%25c');
      const p = parseSquidLine('Q1 1700000001.000 10.0.0.9 TCP_HIT/200 1 0 GET x.test a%20b%25c');
      assert.equal(p.kind === 'usage' && p.username, 'a b%c');
    });
  });

  describe('bad input', () => {
    const bad = (line: string): string | undefined => {
      const p = parseSquidLine(line);
      return p.kind === 'bad' ? p.reason : undefined;
    };
    it('rejects an unknown format, an empty line and a truncated line', () => {
      assert.equal(bad('hello world'), 'unknown format');
      assert.equal(bad(''), 'unknown format');
      assert.equal(bad('1700000000.123 150 127.0.0.1 TCP_MISS/200 10485 GET'), 'unknown format');
    });
    it('rejects absurd and negative sizes', () => {
      assert.equal(bad(`1700000000.000 1 10.0.0.1 TCP_MISS/200 ${MAX_BYTES_PER_LINE + 1} GET http://a.test/ u - -`), 'absurd or malformed size');
      assert.equal(bad('1700000000.000 1 10.0.0.1 TCP_MISS/200 -5 GET http://a.test/ u - -'), 'absurd or malformed size');
      assert.equal(bad('Q1 1700000000.000 10.0.0.1 TCP_MISS/200 1 99999999999999999999 GET a.test u'), 'absurd or malformed size');
    });
    it('rejects a user name that is not valid percent-encoded UTF-8 instead of charging someone else', () => {
      assert.equal(bad('Q1 1700000000.000 10.0.0.1 TCP_MISS/200 1 1 GET a.test %FF%FE'), 'user name is not valid percent-encoded UTF-8');
      assert.equal(bad('Q1 1700000000.000 10.0.0.1 TCP_MISS/200 1 1 GET a.test bad%2'), 'user name is not valid percent-encoded UTF-8');
    });
    it('rejects a bad time', () => {
      assert.equal(bad('yesterday 1 10.0.0.1 TCP_MISS/200 1 GET http://a.test/ u - -'), 'bad time');
    });
  });
});

describe('domainOf()', () => {
  it('strips scheme, credentials, port, path and brackets', () => {
    assert.equal(domainOf('http://user:pw@Host.Test:81/a/b'), 'host.test');
    assert.equal(domainOf('https://[::1]:443/'), '::1');
    assert.equal(domainOf('ftp://files.test'), 'files.test');
  });
});

describe('UsageAggregator', () => {
  it('sums per user and domain, puts hits apart and counts anonymous and bad lines', () => {
    const agg = new UsageAggregator();
    const lines = [
      '1700000000.000 1 10.0.0.1 TCP_MISS/200 100 GET http://a.test/1 alice - -',
      '1700000002.000 1 10.0.0.1 TCP_HIT/200 40 GET http://a.test/2 alice - -',
      'Q1 1700000001.000 10.0.0.1 TCP_MISS/200 10 7 POST a.test alice',
      '1700000003.000 1 10.0.0.1 TCP_MISS/200 5 GET http://b.test/ alice - -',
      '1700000003.000 1 10.0.0.1 TCP_DENIED/407 3900 GET http://b.test/ - - -',
      '1700000003.000 1 10.0.0.1 TCP_MISS/200 3900 GET http://b.test/ - - -',
      'garbage',
    ];
    for (const l of lines) agg.add(parseSquidLine(l), l);
    const { lines: out, badSamples } = agg.drain();
    assert.deepEqual(out, [
      { username: 'alice', domain: 'a.test', bytesIn: 110, bytesOut: 7, cacheHitBytes: 40, requests: 3, firstSeenMs: 1700000000000, lastSeenMs: 1700000002000 },
      { username: 'alice', domain: 'b.test', bytesIn: 5, bytesOut: 0, cacheHitBytes: 0, requests: 1, firstSeenMs: 1700000003000, lastSeenMs: 1700000003000 },
    ]);
    assert.deepEqual(agg.counts, { lines: 7, usage: 4, anonymous: 1, denied: 1, bad: 1 });
    assert.deepEqual(badSamples, ['unknown format: "garbage"']);
    assert.equal(agg.drain().lines.length, 0);
  });
});
