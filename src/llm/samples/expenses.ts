import { loadSampleFiles, type SampleApp } from './sample-app.ts';

export const expensesSample: SampleApp = {
  id: 'expenses',
  keywords: ['expens', 'spend', 'budget', 'money', 'financ', 'cost', 'purchas', 'track', 'chart', 'pie'],
  title: 'Expense Tracker',
  summary: 'Track spending by category, with a pie chart and saved history.',
  files: loadSampleFiles(new URL('./expenses/', import.meta.url)),
};
