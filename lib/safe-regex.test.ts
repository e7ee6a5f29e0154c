import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRegex, MAX_MATCH_WORK, MAX_PATTERN_LENGTH, MAX_PROGRAM_SIZE, RegexError, regexProblem } from './safe-regex.ts';

/** Runs `work` and fails when it takes longer than `ms`. */
function fast<T>(ms: number, work: () => T): T {
  const started = performance.now();
  const value = work();
  const took = performance.now() - started;
  assert.ok(took < ms, `took ${Math.round(took)} ms, expected under ${ms}`);
  return value;
}

// Patterns that take exponential (or high polynomial) time in a backtracking engine.
const CATASTROPHIC = ['(a+)+', '(a|aa)+', '(a|a?)+', '(a*)*b', '(.*a){20}', '(x+x+)+y', '([a-zA-Z]+)*$', '^(\\w+\\s?)*$', '(\\d+)*\\d{3}z', '((a+)+)+b'];

void describe('user regular expressions match in linear time', () => {
  void it('the classic catastrophic patterns answer at once on the texts that stall a backtracking engine', () => {
    fast(3000, () => {
      for (const pattern of CATASTROPHIC) {
        const re = compileRegex(pattern, 'dryRun[0].metricName');
        for (const text of [`${'a'.repeat(26)}!`, `${'a'.repeat(5000)}!`, `${'1'.repeat(5000)}!`]) {
          re.test(text);
          assert.equal(re.testWhole(text), false, `${pattern} on ${text.length} characters`);
        }
      }
    });
  });

  void it('still finds what the patterns describe', () => {
    assert.equal(compileRegex('(a+)+', 'f').testWhole('aaaa'), true);
    assert.equal(compileRegex('(a|aa)+', 'f').test('xxaay'), true, 'test looks anywhere in the text');
    assert.equal(compileRegex('(a|aa)+', 'f').testWhole('xxaay'), false, 'testWhole needs all of it');
    assert.equal(compileRegex('(.*a){3}', 'f').testWhole('banana'), true);
  });

  void it('reads RE2 syntax, as Argo Rollouts (Go), Istio and Envoy do', () => {
    assert.equal(compileRegex('(?i)^ERROR-\\d+$', 'f').test('error-42'), true, 'inline flags, \\d');
    assert.equal(compileRegex('(?P<kind>canary|stable)-.*', 'f').testWhole('canary-web'), true, 'named groups');
    assert.equal(compileRegex('[[:alpha:]]+', 'f').testWhole('abc'), true, 'POSIX classes');
  });
});

void describe('patterns that cannot be used give an error naming the field', () => {
  const refused = (pattern: string, field: string, reason: RegExp): RegexError => {
    const err = regexProblem(pattern, field);
    assert.ok(err instanceof RegexError, `${JSON.stringify(pattern)} should be refused`);
    assert.equal(err.field, field);
    assert.ok(err.message.startsWith(`${field}: `), err.message);
    assert.match(err.reason, reason);
    assert.throws(() => compileRegex(pattern, field), (e: unknown) => e instanceof RegexError && e.message === err.message);
    return err;
  };

  void it('syntax RE2 does not have: lookaround and backreferences, with a hint', () => {
    refused('^(?!canary).*', 'spec.dryRun[0].metricName', /invalid or unsupported Perl syntax.*no lookahead, lookbehind or backreferences/);
    refused('(a)\\1', 'spec.dryRun[1].metricName', /invalid escape sequence.*backreferences/);
  });

  void it('malformed patterns', () => {
    refused('(', 'headerValue.regex', /^"\(" is not a regular expression RE2 accepts: missing closing \)/);
    refused('a{1001}', 'headerValue.regex', /invalid repeat count/);
    refused('*a', 'headerValue.regex', /missing argument to repetition operator/);
  });

  void it('patterns too long or too large once compiled', () => {
    const long = refused('a'.repeat(MAX_PATTERN_LENGTH + 1), 'f', new RegExp(`is ${MAX_PATTERN_LENGTH + 1} characters long; a pattern may have at most ${MAX_PATTERN_LENGTH}`));
    assert.ok(long.message.length < 300, 'the message shows an excerpt, not the whole pattern');
    assert.equal(regexProblem('a'.repeat(MAX_PATTERN_LENGTH), 'f'), undefined, 'a pattern at the limit is fine');
    fast(2000, () => refused('((a{100}){100}){100}', 'f', /invalid repeat count/));
    fast(2000, () => refused('(.*a){999}', 'f', new RegExp(`too large once compiled \\(\\d+ steps, at most ${MAX_PROGRAM_SIZE}\\)`)));
  });

  void it('a text too long for its pattern is refused before matching, so no match can run long', () => {
    const re = compileRegex('(.*a){300}', 'the pattern of "matches"');
    const most = Math.floor(MAX_MATCH_WORK / re.size);
    fast(2000, () => re.test('b'.repeat(most)));
    assert.throws(() => re.test('b'.repeat(most + 1)), /the pattern of "matches": the text to match is \d+ characters long; "\(\.\*a\)\{300\}" can match at most \d+/);
  });
});
