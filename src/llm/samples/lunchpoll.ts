import { loadSampleFiles, type SampleApp } from './sample-app.ts';

/** The shared-state sample (`@vibe/shared`): everyone with the link votes in the same poll, live. */
export const lunchPollSample: SampleApp = {
  id: 'lunchpoll',
  keywords: ['poll', 'vote', 'voting', 'lunch', 'survey', 'ballot', 'election', 'dinner', 'restaurant'],
  title: 'Team Lunch Poll',
  summary: 'A lunch poll the whole channel votes in together, live: one vote each, with names.',
  files: loadSampleFiles(new URL('./lunchpoll/', import.meta.url)),
};
