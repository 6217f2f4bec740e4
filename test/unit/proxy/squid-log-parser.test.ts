import assert from 'node:assert/strict';
import { normaliseUsername } from '../../../primary/users/user-service';
import {
  decodeNativeUsername,
  domainOf,
  encodeNativeUsername,
  encodeUsername,
  MAX_BYTES_PER_LINE,
  parseSquidLine,
} from '../../../secondary/proxy/squid-log-parser';
import { MAX_BYTES_PER_SUM, UsageAggregator } from '../../../secondary/proxy/usage-aggregator';

const q1 = (user: string, opts: { time?: number; bytes?: number; domain?: string } = {}): string =>
  `Q1 ${(opts.time ?? 1700000000).toFixed(3)} 10.0.0.1 TCP_MISS/200 ${opts.bytes ?? 1} 0 GET ${opts.domain ?? 'a.test'} ${user}`;

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

  // Squid's native log quotes a user name as a MIME blob: a space stays a space, a backslash is
  // doubled, % [ ] and non-ASCII bytes are %XX. Read any other way, such users browse for free
  // (the line is bad) or are charged as someone else (issue 14).
  describe('native format user names', () => {
    const native = (logged: string, type = 'text/html'): string =>
      `1700000000.000    150 10.0.0.1 TCP_MISS/200 4096 GET http://a.test/x ${logged} HIER_DIRECT/10.0.0.1 ${type}`;
    const userOf = (line: string): string | undefined => {
      const p = parseSquidLine(line);
      return p.kind === 'usage' ? p.username : `${p.kind}${p.kind === 'bad' ? `: ${p.reason}` : ''}`;
    };

    it('reads a name with spaces, however many, as one user', () => {
      assert.equal(userOf(native('José Müller'.replace('é', '%c3%a9').replace('ü', '%c3%bc'))), 'josé müller');
      assert.equal(userOf(native('a b c d e')), 'a b c d e');
      assert.equal(userOf(native('two  spaces')), 'two  spaces');
      assert.equal(userOf(native('ann lee', '-')), 'ann lee');
    });

    it('reads each character Squid quotes back as itself, for every kind of name', () => {
      for (const name of ['DOM\\jsmith', 'a%41b', '100%', 'a+b', 'jsmith@realm.test', 'Élodie', 'Zoë Ng', '[x] y', 'back\\slash\\']) {
        const logged = encodeNativeUsername(name);
        assert.equal(decodeNativeUsername(logged), name, logged);
        assert.equal(userOf(native(logged)), name.normalize('NFC').toLowerCase(), logged);
      }
      assert.equal(encodeNativeUsername('DOM\\jsmith'), 'DOM\\\\jsmith');
      assert.equal(encodeNativeUsername('José 100%'), 'Jos%c3%a9 100%25');
    });

    it('refuses what the quoting cannot produce, rather than guess another user', () => {
      assert.equal(userOf(native('a\\qb')), 'bad: user name is not valid Squid-quoted UTF-8');
      assert.equal(userOf(native('a%4')), 'bad: user name is not valid Squid-quoted UTF-8');
      assert.equal(userOf(native('%ff%fe')), 'bad: user name is not valid Squid-quoted UTF-8');
      assert.equal(userOf(native('a\\nb')), 'bad: user name contains control characters');
    });

    it('keeps the same logged text apart in the two formats', () => {
      assert.equal(userOf(native('a%2Bb')), 'a+b');
      assert.equal(userOf(native('dom\\\\x')), 'dom\\x');
      assert.equal(userOf(q1('dom%5Cx')), 'dom\\x');
      assert.equal(userOf(q1('dom\\\\x')), 'dom\\\\x');
    });

    it('still refuses a native line without its last two fields', () => {
      assert.equal(userOf('1700000000.000 150 10.0.0.1 TCP_MISS/200 4096 GET http://a.test/x ann lee'), 'bad: unknown format');
    });
  });

  describe('recommended Q1 format', () => {
    it("reads bytes in and out, domain and the URL-encoded user, in the primary's form (lower case)", () => {
      const line = `Q1 1700000001.500 10.0.0.9 TCP_MISS/200 2048 512 POST upload.test ${encodeUsername('José Müller')}`;
      assert.deepEqual(parseSquidLine(line), {
        kind: 'usage',
        timeMs: 1700000001500,
        username: 'josé müller',
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
    it('rejects the user names the primary refuses, which would make it refuse the whole report', () => {
      assert.equal(bad(q1('a%01b')), 'user name contains control characters');
      assert.equal(bad(q1('a%E2%80%A8b')), 'user name contains control characters', 'U+2028 line separator');
      assert.equal(bad(q1('a%E2%80%8Bb')), 'user name contains control characters', 'U+200B zero-width space (a format character)');
      assert.equal(bad(q1('%20')), 'user name is empty');
      assert.equal(bad(q1('%09%20%0A')), 'user name is empty');
      assert.equal(bad(q1(encodeUsername('İ'.repeat(100)))), 'user name is longer than 128 characters', '100 characters, but 200 once lower-cased');
      assert.equal(bad(q1('a'.repeat(129))), 'user name is longer than 128 characters');
      const longest = parseSquidLine(q1('A'.repeat(128)));
      assert.equal(longest.kind === 'usage' && longest.username, 'a'.repeat(128));
      const spaced = parseSquidLine(q1('%20Ann%20'));
      assert.equal(spaced.kind === 'usage' && spaced.username, 'ann');
    });

    it('accepts exactly the names the primary accepts, as the user the primary charges', () => {
      const names = [
        'alice',
        'Bob',
        ' carl ',
        'José Müller',
        'e\u0301mile',
        'İ'.repeat(64),
        'İ'.repeat(65),
        'a\u0001b',
        ' ',
        'x\u00a0',
        'ß',
        'ǅ',
        'a\u202eb',
        '-x',
        'k'.repeat(128),
        'K'.repeat(129),
      ];
      for (const name of names) {
        const p = parseSquidLine(q1(encodeUsername(name)));
        let primary: string | undefined;
        try {
          primary = normaliseUsername(name);
        } catch {
          primary = undefined;
        }
        assert.equal(p.kind === 'usage' ? p.username : undefined, primary, JSON.stringify(name));
        if (p.kind === 'usage') assert.equal(normaliseUsername(p.username), p.username, `the primary takes ${JSON.stringify(p.username)} as it is`);
      }
    });

    it('rejects a bad time', () => {
      assert.equal(bad('yesterday 1 10.0.0.1 TCP_MISS/200 1 GET http://a.test/ u - -'), 'bad time');
      assert.equal(bad('1e9 1 10.0.0.1 TCP_MISS/200 1 GET http://a.test/ u - -'), 'bad time');
      assert.equal(bad('1700000000. 1 10.0.0.1 TCP_MISS/200 1 GET http://a.test/ u - -'), 'bad time');
      assert.equal(bad(q1('u', { time: 0 })), 'bad time');
      assert.equal(bad(q1('u', { time: 40000000000 })), 'bad time');
    });

    it('reads a time with more than 3 decimals to the nearest millisecond, and one without decimals', () => {
      const at = (time: string): number | undefined => {
        const p = parseSquidLine(`Q1 ${time} 10.0.0.1 TCP_MISS/200 1 0 GET a.test u`);
        return p.kind === 'usage' ? p.timeMs : undefined;
      };
      assert.equal(at('1700000000.1235'), 1700000000124);
      assert.equal(at('1700000000.1234'), 1700000000123);
      assert.equal(at('1700000000.9996'), 1700000001000);
      assert.equal(at('1700000000'), 1700000000000);
      assert.equal(at('1700000000.5'), 1700000000500);
    });

    it('gives the same answer for a user name seen again (names are remembered per log field)', () => {
      for (let i = 0; i < 2; i++) {
        assert.equal(bad(q1('a%01b')), 'user name contains control characters');
        const p = parseSquidLine(q1('J%C3%B6rg'));
        assert.equal(p.kind === 'usage' && p.username, 'jörg');
      }
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

describe('UsageAggregator with what the primary would refuse', () => {
  it('counts and logs a line with a user name the primary refuses, and never sends it', () => {
    const agg = new UsageAggregator();
    for (const l of [q1('ann', { bytes: 10 }), q1('a%01b'), q1('%20'), q1(encodeUsername('İ'.repeat(100)))]) agg.add(parseSquidLine(l), l);
    const { lines, badSamples } = agg.drain();
    assert.deepEqual(
      lines.map((l) => [l.username, l.bytesIn]),
      [['ann', 10]],
    );
    assert.deepEqual(agg.counts, { lines: 4, usage: 1, anonymous: 0, denied: 0, bad: 3 });
    assert.deepEqual(
      badSamples.map((b) => b.slice(0, b.indexOf(':'))),
      ['user name contains control characters', 'user name is empty', 'user name is longer than 128 characters'],
    );
  });

  it('sums "Ann" and "ann" as one user, as the primary charges them', () => {
    const agg = new UsageAggregator();
    for (const l of [q1('Ann', { bytes: 1 }), q1('ann', { bytes: 2 })]) agg.add(parseSquidLine(l), l);
    assert.deepEqual(
      agg.drain().lines.map((l) => [l.username, l.bytesIn, l.requests]),
      [['ann', 3, 2]],
    );
  });

  it("starts a second sum for the same user and domain before a byte count would pass the primary's 2^50", () => {
    const agg = new UsageAggregator();
    // 1,025 of the largest lines believed (2^40 bytes each): 1,024 of them make exactly 2^50.
    for (let i = 0; i < 1025; i++) agg.add(parseSquidLine(q1('ann', { bytes: MAX_BYTES_PER_LINE, time: 1700000000 + i / 100 })));
    assert.equal(agg.size, 2);
    const { lines } = agg.drain();
    assert.deepEqual(
      lines.map((l) => [l.username, l.domain, l.bytesIn, l.requests]),
      [
        ['ann', 'a.test', MAX_BYTES_PER_SUM, 1024],
        ['ann', 'a.test', MAX_BYTES_PER_LINE, 1],
      ],
    );
  });

  it('starts a second sum before first-to-last seen would span more than a minute (a log read after a long stop, a wrong clock)', () => {
    const agg = new UsageAggregator();
    const t = 1700000000;
    for (const at of [t, t + 30, t + 60, t + 61, t - 2 * 86400]) agg.add(parseSquidLine(q1('ann', { bytes: 5, time: at })));
    assert.deepEqual(
      agg.drain().lines.map((l) => [l.firstSeenMs, l.lastSeenMs, l.requests, l.bytesIn]),
      [
        [t * 1000, (t + 60) * 1000, 3, 15],
        [(t + 61) * 1000, (t + 61) * 1000, 1, 5],
        [(t - 2 * 86400) * 1000, (t - 2 * 86400) * 1000, 1, 5],
      ],
    );
  });
});
