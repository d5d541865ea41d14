import { loadSampleFiles, type SampleApp } from './sample-app.ts';

export const calculatorSample: SampleApp = {
  id: 'calculator',
  keywords: ['calculat', 'calc', 'arithmetic', 'math', 'maths', 'multipl', 'divid', 'subtract'],
  title: 'Calculator',
  summary: 'A pocket calculator with keyboard support.',
  files: loadSampleFiles(new URL('./calculator/', import.meta.url)),
};
