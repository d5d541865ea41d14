import { calculatorSample } from './calculator.ts';
import { expensesSample } from './expenses.ts';
import { lunchPollSample } from './lunchpoll.ts';
import { pomodoroSample } from './pomodoro.ts';
import type { SampleApp } from './sample-app.ts';
import { tictactoeSample } from './tictactoe.ts';
import { todoSample } from './todo.ts';
import { weatherSample } from './weather.ts';

/** Every built-in sample; on a keyword tie the earlier one wins, so the catch-all todo list is last. */
export const ALL_SAMPLES: readonly SampleApp[] = [
  pomodoroSample,
  calculatorSample,
  expensesSample,
  tictactoeSample,
  weatherSample,
  lunchPollSample,
  todoSample,
];

/**
 * Used when a prompt matches no sample's keywords. The todo list: it is the app people most often
 * mean by "an app", and it shows state, forms and persistence without looking like a misreading.
 */
export const DEFAULT_SAMPLE_ID = todoSample.id;
