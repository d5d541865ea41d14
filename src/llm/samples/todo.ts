import { loadSampleFiles, type SampleApp } from './sample-app.ts';

export const todoSample: SampleApp = {
  id: 'todo',
  keywords: ['todo', 'task', 'checklist', 'list', 'chore', 'errand', 'remind'],
  title: 'Todo List',
  summary: 'A to-do list with filters that keeps your tasks in the browser.',
  files: loadSampleFiles(new URL('./todo/', import.meta.url)),
};
