import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLine } from '../src/commands/dispatch';
import { DEFAULT_DEADLINES } from '../src/shared/config';
import { useDeadlines } from '../src/worker/deadlines';
import { Corpus, Findings, makeRng, NAMES, REPLAY, SEED, shorten } from './fuzz-corpus';
import { acted, FAKE_FRAME, fakeContext, mistake, noEffects, sessionLines, settles, wellFormed, type Effects } from './fuzz-fake-main';

// The command dispatcher against a fake main thread: lines cut from fuzzed bytes, command texts, mistakes by
// construction and well-formed commands (see fuzz-corpus.ts for the seed and its replay).

test(`runLine answers 10,000 fuzzed lines without a throw or a stack trace (${REPLAY})`, async (t) => {
  const kill = t.mock.method(process, 'kill', () => true);
  // The fake main thread answers at once or never; what the commands wait for a pause that never lands is the
  // monitor thread's deadline, shortened here as AIOMONITOR_TEST_DEADLINE_MS shortens it in a real monitor.
  useDeadlines({ mainMs: 100, refusalGraceMs: 50, consoleStartMs: 150 });
  t.after(() => useDeadlines(DEFAULT_DEADLINES));
  const rng = makeRng(SEED, 2);
  const corpus = new Corpus(rng);
  const findings = new Findings();
  const seen = { lines: 0, errors: 0, mistakes: 0, exits: 0, consoles: 0, calls: 0, waits: 0, stubbed: 0, frames: 0, misses: 0, ok: 0 };
  while (seen.lines < 10_000) {
    // Lines as a session cuts them from fuzzed bytes, command texts, mistakes by construction and well-formed commands.
    const roll = rng.int(4);
    const batch: { line: string; kind?: string; valid?: true }[] = roll === 0
      ? sessionLines(corpus.input()).map((line) => ({ line }))
      : roll === 1 ? [{ line: corpus.commandText() }] : roll === 2 ? [mistake(rng, corpus)] : [{ line: wellFormed(rng), valid: true }];
    for (const { line, kind, valid } of batch) {
      seen.lines++;
      const out: string[] = [];
      const effects: Effects = noEffects();
      const outcome = await settles(runLine(line, fakeContext(rng, out, effects)), 5000);
      if (outcome === 'timeout') { findings.add('runLine did not settle in 5 s', line, ''); continue; }
      if (outcome !== 'ok') { findings.add('runLine rejected', line, String((outcome.error as Error)?.stack ?? outcome.error)); continue; }
      const printed = out.join('\n').split('\n');
      const name = line.trim().split(/\s+/, 1)[0].toLowerCase();
      const cmd = NAMES.includes(name) ? name : '<other>';
      if (effects.exit) seen.exits++;
      if (effects.console) seen.consoles++;
      seen.calls += effects.calls;
      seen.waits += effects.waits;
      seen.stubbed += effects.stubbed;
      seen.misses += effects.misses;
      if (line.trim() === '') {
        if (out.length > 0) findings.add('a blank line printed something', line, `output: ${shorten(JSON.stringify(out))}`);
        continue;
      }
      if (out.length === 0 && !effects.exit && !effects.console) findings.add('a command printed nothing', line, '', cmd);
      for (const text of printed) {
        if (FAKE_FRAME.test(text)) seen.frames++;
        else if (text.includes('    at ')) findings.add('a command printed a stack frame', line, `output: ${shorten(JSON.stringify(out), 800)}`, cmd);
      }
      if (out.join('\n').includes('[object ')) findings.add('a command printed [object ...]', line, `output: ${shorten(JSON.stringify(out))}`, cmd);
      // "✗ NAME failed: ..." passes on a failure of the main thread; with none, it is the monitor's own error shown to the user.
      const internal = printed.find((text) => /^✗ \S+ failed: /.test(text));
      if (effects.failures === 0 && internal) {
        findings.add(`a command showed its own error, the main thread did not fail: ${internal.replace(/^✗ \S+ failed: /, '')}`, line, `output: ${shorten(JSON.stringify(out), 800)}`, cmd);
      }
      const failed = printed.some((text) => text.startsWith('✗'));
      if (failed) seen.errors++;
      else seen.ok++;
      // A failure ends the answer: one ✗ line, the last; what the command printed before it failed may precede it.
      if (failed && (printed.filter((text) => text.startsWith('✗')).length !== 1 || !printed[printed.length - 1].startsWith('✗ '))) {
        findings.add('a command printed a ✗ line that does not end its answer', line, `output: ${shorten(JSON.stringify(out), 800)}`, cmd);
      }
      // A well-formed command fails only when the main thread does, or when the fake's answer says there is no such thing.
      if (valid && failed && effects.failures === 0 && !/^✗ (no task \d+|no block \d+|not sending SIG\w+: |request \d+ cannot be cancelled|the monitor has stopped measuring)/.test(printed[printed.length - 1])) {
        findings.add('a well-formed command was answered with ✗', line, `output: ${shorten(JSON.stringify(out), 800)}`, cmd);
      }
      if (kind !== undefined) {
        seen.mistakes++;
        if (!(printed.length === 1 && printed[0].startsWith('✗ ')) || acted(effects)) {
          findings.add(`mistake "${kind}" not answered with one ✗ line`, line, `output: ${shorten(JSON.stringify(out), 800)}; effects: ${JSON.stringify(effects)}`, cmd);
        }
      }
    }
  }
  t.diagnostic(`paths taken: ${JSON.stringify(seen)}`);
  findings.assertNone(`of ${seen.lines} lines`);
  // Not vacuous: every path was taken many times.
  assert.ok(seen.ok > 1000 && seen.errors > 1000 && seen.mistakes > 1000, `too few successes or mistakes: ${JSON.stringify(seen)}`);
  assert.ok(seen.exits > 20 && seen.consoles > 20 && seen.calls > 20 && seen.waits > 20 && seen.frames > 20 && seen.misses > 20, `a command path was hardly reached: ${JSON.stringify(seen)}`);
  assert.ok(kill.mock.callCount() > 20, `signal sent only ${kill.mock.callCount()} signals`);
  assert.ok(kill.mock.calls.every((call) => call.arguments[0] === process.pid), 'signal went to another process');
});

