import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  answerLine,
  escapeMessage,
  FORMAT_PROBLEM,
  HelperUsageError,
  parseHelperOptions,
  parseRequest,
  type Lookup,
} from '../../../secondary/proxy/acl-helper';

const blockedSet: Lookup = (u) =>
  Promise.resolve(u === 'josé müller' ? { blocked: true, reason: 'Out of credit: "balance" is -$0.25' } : { blocked: false, reason: '' });
const down: Lookup = () => Promise.reject(new Error('ECONNREFUSED'));

describe('answerLine()', () => {
  it('answers OK with the channel id for a user who may browse', async () => {
    assert.equal(await answerLine('7 alice', blockedSet, 'allow'), '7 OK');
  });
  it("answers ERR with an escaped reason for a blocked user, decoding Squid's %XX and lower-casing", async () => {
    assert.equal(await answerLine('12 Jos%C3%A9%20M%C3%BCller', blockedSet, 'allow'), '12 ERR message="Out of credit: \\"balance\\" is -$0.25"');
  });
  it('works without channel ids (concurrency=0)', async () => {
    assert.equal(await answerLine('alice', blockedSet, 'allow'), 'OK');
  });
  it('reads the line Squid 4+ sends, with %DATA ("-") after the user, with or without channel ids', async () => {
    assert.equal(await answerLine('12 jos%C3%A9%20m%C3%BCller -', blockedSet, 'allow'), '12 ERR message="Out of credit: \\"balance\\" is -$0.25"');
    assert.equal(await answerLine('jos%C3%A9%20m%C3%BCller -', blockedSet, 'allow'), 'ERR message="Out of credit: \\"balance\\" is -$0.25"');
    assert.equal(await answerLine('3 42 -', blockedSet, 'allow'), '3 OK');
    assert.deepEqual(parseRequest('42 -'), { channel: '', field: '42' });
    assert.deepEqual(parseRequest('3 42 -'), { channel: '3 ', field: '42' });
  });
  it('decodes exactly what rfc1738_escape makes: + stays +, %25 is %, backslash and @ names are one user each', async () => {
    const asked: string[] = [];
    const record: Lookup = (u) => {
      asked.push(u);
      return Promise.resolve({ blocked: false, reason: '' });
    };
    for (const line of ['1 a+b -', '2 a%2541b -', '3 dom%5Cjsmith -', '4 jsmith@realm.test -', '5 %C3%89lodie -', '6 e%CC%81lodie -', '7 o%27brien%7E -'])
      await answerLine(line, record, 'allow');
    assert.deepEqual(asked, ['a+b', 'a%41b', 'dom\\jsmith', 'jsmith@realm.test', 'élodie', 'élodie', "o'brien~"]);
  });
  it('refuses a line of another shape (an unescaped %LOGIN) instead of guessing, and says why once', async () => {
    const problems: string[] = [];
    assert.equal(await answerLine('2 josé müller -', blockedSet, 'allow', (p) => problems.push(p)), `2 ERR message="${FORMAT_PROBLEM}"`);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /%#LOGIN/);
  });
  it('refuses a name the primary would not accept, since its usage could never be charged', async () => {
    assert.equal(
      await answerLine(`1 ${'x'.repeat(129)} -`, blockedSet, 'allow'),
      '1 ERR message="user name not accepted: user name is longer than 128 characters"',
    );
    assert.equal(await answerLine('2 a%09b -', blockedSet, 'allow'), '2 ERR message="user name not accepted: user name contains control characters"');
  });
  it('refuses "-" and undecodable names without asking the secondary', async () => {
    assert.equal(await answerLine('3 - -', down, 'allow'), '3 ERR message="not signed in"');
    assert.equal(await answerLine('4 %FF -', down, 'allow'), '4 ERR message="unreadable user name"');
  });
  it('follows --when-down when the secondary cannot be asked', async () => {
    assert.equal(await answerLine('5 alice', down, 'allow'), '5 OK');
    assert.equal(await answerLine('6 alice', down, 'deny'), '6 ERR message="the accounting service is unavailable"');
  });
});

describe('parseHelperOptions()', () => {
  it('reads the socket, the answer when the secondary is down and the timeout, in either spelling', () => {
    assert.deepEqual(parseHelperOptions(['--socket', '/run/q.sock', '--when-down', 'deny', '--timeout-ms', '500']), {
      socketPath: '/run/q.sock',
      whenDown: 'deny',
      timeoutMs: 500,
    });
    assert.deepEqual(parseHelperOptions(['--socket=/run/q.sock', '--when-down=allow']), { socketPath: '/run/q.sock', whenDown: 'allow', timeoutMs: 2000 });
  });
  it('defaults to allow, 2000 ms and $QUOTIENT_SOCKET, then the standard socket', () => {
    assert.deepEqual(parseHelperOptions([], { QUOTIENT_SOCKET: '/srv/q.sock' }), { socketPath: '/srv/q.sock', whenDown: 'allow', timeoutMs: 2000 });
    assert.deepEqual(parseHelperOptions([]), { socketPath: '/var/lib/quotient/quotient.sock', whenDown: 'allow', timeoutMs: 2000 });
  });
  it('refuses a mistyped --when-down value instead of allowing everyone', () => {
    assert.throws(() => parseHelperOptions(['--when-down=alow']), new HelperUsageError('--when-down must be allow or deny, got "alow"'));
    assert.throws(() => parseHelperOptions(['--when-down', 'DENY']), new HelperUsageError('--when-down must be allow or deny, got "DENY"'));
  });
  it('refuses unknown options, a missing value, stray arguments and a timeout that is not a whole number', () => {
    for (const argv of [
      ['--whendown', 'deny'],
      ['--when-down'],
      ['--socket', '/run/q.sock', 'deny'],
      ['-x'],
      ['--timeout-ms', '2s'],
      ['--timeout-ms', '0'],
      ['--socket='],
    ]) {
      assert.throws(() => parseHelperOptions(argv), HelperUsageError, JSON.stringify(argv));
    }
    assert.throws(() => parseHelperOptions(['--whendown', 'deny']), /Unknown option '--whendown'/);
  });
});

describe('escapeMessage()', () => {
  it('keeps one line and escapes quotes and backslashes', () => {
    assert.equal(escapeMessage('a\r\nb "c" \\d'), 'a b \\"c\\" \\\\d');
  });
});

describe('acl-helper executable', () => {
  it('answers every channel of a concurrent batch, in the deny-when-down mode, and exits when stdin closes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-acl-'));
    try {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.resolve('secondary/proxy/acl-helper.ts'), '--socket', path.join(dir, 'none.sock'), '--when-down', 'deny'],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      );
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (t: string) => (out += t));
      child.stdin.write('0 alice -\n1 bob -\n2 - -\n');
      child.stdin.end();
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 0);
      assert.deepEqual(out.trim().split('\n').sort(), [
        '0 ERR message="the accounting service is unavailable"',
        '1 ERR message="the accounting service is unavailable"',
        '2 ERR message="not signed in"',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
