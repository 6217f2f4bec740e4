import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { answerLine, escapeMessage, type Lookup } from '../../../secondary/proxy/acl-helper';

const blockedSet: Lookup = (u) => Promise.resolve(u === 'josé müller' ? { blocked: true, reason: 'Out of credit: "balance" is -$0.25' } : { blocked: false, reason: '' });
const down: Lookup = () => Promise.reject(new Error('ECONNREFUSED'));

describe('answerLine()', () => {
  it('answers OK with the channel id for a user who may browse', async () => {
    assert.equal(await answerLine('7 alice', blockedSet, 'allow'), '7 OK');
  });
  it('answers ERR with an escaped reason for a blocked user, decoding Squid\'s %XX and lower-casing', async () => {
    assert.equal(await answerLine('12 Jos%C3%A9%20M%C3%BCller', blockedSet, 'allow'), '12 ERR message="Out of credit: \\"balance\\" is -$0.25"');
  });
  it('works without channel ids (concurrency=0)', async () => {
    assert.equal(await answerLine('alice', blockedSet, 'allow'), 'OK');
  });
  it('refuses "-" and undecodable names without asking the secondary', async () => {
    assert.equal(await answerLine('3 -', down, 'allow'), '3 ERR message="not signed in"');
    assert.equal(await answerLine('4 %FF', down, 'allow'), '4 ERR message="unreadable user name"');
  });
  it('follows --when-down when the secondary cannot be asked', async () => {
    assert.equal(await answerLine('5 alice', down, 'allow'), '5 OK');
    assert.equal(await answerLine('6 alice', down, 'deny'), '6 ERR message="the accounting service is unavailable"');
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
      const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('secondary/proxy/acl-helper.ts'), '--socket', path.join(dir, 'none.sock'), '--when-down', 'deny'], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (t: string) => (out += t));
      child.stdin.write('0 alice\n1 bob\n2 -\n');
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
