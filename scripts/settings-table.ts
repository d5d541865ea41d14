// Writes the settings table in docs/settings.md from settingsDoc (src/config.ts): npm run docs:settings.
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsTable } from '../src/config.ts';

const PAGE = 'docs/settings.md';
const START = /<!-- settings:start[^>]*-->\n/;
const END = '<!-- settings:end -->';
const page = readFileSync(PAGE, 'utf8');
const start = START.exec(page);
const end = page.indexOf(END);
if (!start || end < 0) throw new Error(`${PAGE} has no settings markers`);
writeFileSync(PAGE, `${page.slice(0, start.index + start[0].length)}${settingsTable()}\n${page.slice(end)}`);
console.log(`${PAGE}: settings table written`);
