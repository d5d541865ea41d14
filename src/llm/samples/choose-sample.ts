import type { SampleApp } from './sample-app.ts';

/**
 * Prompt words, lower-cased; hyphenated words also count joined up, so "to-do" gives "todo"
 * and "tic-tac-toe" gives "tictactoe".
 */
export function promptWords(prompt: string): Set<string> {
  const lower = prompt.toLowerCase();
  const words = new Set(lower.match(/[a-z0-9]+/g) ?? []);
  for (const hyphenated of lower.match(/[a-z0-9]+(?:-[a-z0-9]+)+/g) ?? []) words.add(hyphenated.replaceAll('-', ''));
  return words;
}

/**
 * Short keywords match only whole words (and a plural), since as prefixes they would catch too
 * much ("sun" in "sunday", "list" in "listen"); longer stems match any word they start.
 */
export function keywordMatches(word: string, keyword: string): boolean {
  if (word === keyword || word === `${keyword}s` || word === `${keyword}es`) return true;
  return keyword.length >= 5 && word.startsWith(keyword);
}

/** How many of the sample's keywords the prompt mentions. */
export function scoreSample(words: Set<string>, sample: SampleApp): number {
  let score = 0;
  for (const keyword of sample.keywords) {
    for (const word of words) {
      if (keywordMatches(word, keyword)) {
        score += 1;
        break;
      }
    }
  }
  return score;
}

/**
 * The sample with the most keyword matches; ties go to the one listed first. With no match at
 * all, the sample `fallbackId` names is used (the caller's sensible default).
 */
export function chooseSample(prompt: string, samples: readonly SampleApp[], fallbackId: string): SampleApp {
  const words = promptWords(prompt);
  let best: SampleApp | undefined;
  let bestScore = 0;
  for (const sample of samples) {
    const score = scoreSample(words, sample);
    if (score > bestScore) {
      best = sample;
      bestScore = score;
    }
  }
  const chosen = best ?? samples.find((s) => s.id === fallbackId) ?? samples[0];
  if (!chosen) throw new Error('chooseSample: no samples given');
  return chosen;
}
