// Writes README.md's settings table from settingsDoc (src/config.ts): npm run docs:settings.
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsTable } from '../src/config.ts';

const START = /<!-- settings:start[^>]*-->\n/;
const END = '<!-- settings:end -->';
const readme = readFileSync('README.md', 'utf8');
const start = START.exec(readme);
const end = readme.indexOf(END);
if (!start || end < 0) throw new Error('README.md has no settings markers');
writeFileSync('README.md', `${readme.slice(0, start.index + start[0].length)}${settingsTable()}\n${readme.slice(end)}`);
console.log('README.md: settings table written');
