import { loadSampleFiles, type SampleApp } from './sample-app.ts';

export const tictactoeSample: SampleApp = {
  id: 'tictactoe',
  keywords: ['tictactoe', 'tic', 'tac', 'toe', 'noughts', 'crosses', 'game', 'play'],
  title: 'Tic-Tac-Toe',
  summary: 'Tic-tac-toe against a friend or a beatable computer, with a scoreboard.',
  files: loadSampleFiles(new URL('./tictactoe/', import.meta.url)),
};
