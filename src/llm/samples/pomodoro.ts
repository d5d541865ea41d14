import { loadSampleFiles, type SampleApp } from './sample-app.ts';

export const pomodoroSample: SampleApp = {
  id: 'pomodoro',
  keywords: ['pomodoro', 'timer', 'focus', 'countdown', 'tomato', 'concentrat', 'study', 'productiv'],
  title: 'Pomodoro Timer',
  summary: 'A dark-themed focus timer with work, short-break and long-break modes.',
  files: loadSampleFiles(new URL('./pomodoro/', import.meta.url)),
};
