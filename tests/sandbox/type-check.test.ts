import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckError } from '../../src/core/ports/index.ts';
import type { AgentChannel } from '../../src/sandbox/agent-channel.ts';
import { SANDBOX_ROOT } from '../../src/sandbox/bwrap-args.ts';
import { libraryNames } from '../../src/sandbox/source-check.ts';
import { parseTscOutput } from '../../src/sandbox/tsc-output.ts';
import { tscArgv, typeCheck, warmErrors } from '../../src/sandbox/type-check.ts';
import { needs } from '../support/needs.ts';
import { recordingLogger, templateDir, templateFiles, useLocalProvider } from './sandbox-test-kit.ts';

const app = (appTsx: string, extra: Record<string, string> = {}) => ({
  ...templateFiles(),
  'src/App.tsx': appTsx,
  ...extra,
});

const order = (errors: CheckError[]) =>
  [...errors].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);

// The same edits, one after another in one sandbox: the warm compiler (updated file by file)
// must say exactly what a cold `tsc --noEmit` says of the same files.
const steps: { name: string; files: Record<string, string> }[] = [
  { name: 'clean', files: app('export default function App() { return <p>hi</p>; }\n') },
  {
    name: 'type error',
    files: app("export default function App() {\n  const n: number = 'five';\n  return <p>{n}</p>;\n}\n"),
  },
  {
    name: 'a new file in a new folder, and its import',
    files: app(
      "import { Badge } from './ui/deep/Badge';\nexport default function App() { return <Badge text={3} />; }\n",
      {
        'src/ui/deep/Badge.tsx': 'export function Badge({ text }: { text: string }) { return <b>{text}</b>; }\n',
      },
    ),
  },
  {
    name: 'the folder removed: the import is now missing',
    files: app(
      'import { Badge } from \'./ui/deep/Badge\';\nexport default function App() { return <Badge text="x" />; }\n',
    ),
  },
  {
    name: 'non-ASCII text before the error (columns in UTF-16 units, as tsc counts)',
    files: app(
      "const s = 'héllo 😀 wörld'; const t = '😀😀'; const n: number = s + t;\nexport default function App() { return <p>{n}</p>; }\n",
    ),
  },
  {
    name: 'a chained message',
    files: app(
      "interface A { a: string; b: { c: number } }\nconst f = (x: { p: { q: string } }) => x;\nf({ p: { q: 1 } });\nconst z: A = { a: 'x', b: { c: 'no' } };\nconst y: A[] = [{ a: 'x' }];\nexport default function App() { return <p>{String(z)}{String(y)}</p>; }\n",
    ),
  },
  // (A syntax error never gets this far: the source check refuses it before it is written.)
  {
    name: 'wrong arguments, and an unused @ts-expect-error',
    files: app(
      'function h(a: string) { return a; }\nh(1, 2);\n// @ts-expect-error\nconst ok: number = 1;\nexport default function App() { return <p>{ok}</p>; }\n',
    ),
  },
  { name: 'clean again', files: app('export default function App() { return <p>back</p>; }\n') },
];

describe.runIf(needs('template'))('the warm type check', () => {
  const logger = recordingLogger();
  const provider = useLocalProvider('vibe-typecheck-', logger);

  it('says what a cold tsc says, edit after edit', { timeout: 120_000 }, async () => {
    const { id } = await provider().boot('typed1');
    const root = provider().isIsolated() ? SANDBOX_ROOT : join(provider()['appsDir' as never] as string, 'typed1');
    for (const step of steps) {
      expect(await provider().write(id, step.files), step.name).toEqual([]);
      const warm = await provider().check(id);
      const cli = await provider().run(id, tscArgv(root));
      const cold = parseTscOutput(`${cli.stdout}\n${cli.stderr}`, root);
      expect(order(warm), step.name).toEqual(order(cold));
      if (step.name.startsWith('clean')) expect(warm, step.name).toEqual([]);
      else expect(warm.length, step.name).toBeGreaterThan(0);
    }
    // Writes and checks sent together, as a create's live writes and early checks are: each check
    // sees whole writes, and the last one says what tsc says of the last files.
    const sent = steps.slice(0, 5).flatMap((step) => [provider().write(id, step.files), provider().check(id)]);
    await Promise.all(sent);
    const last = await provider().check(id);
    const cli = await provider().run(id, tscArgv(root));
    expect(order(last)).toEqual(order(parseTscOutput(`${cli.stdout}\n${cli.stderr}`, root)));
    expect(last.length).toBeGreaterThan(0); // step 5 has a type error
    // Every check above came from the warm compiler, none from the command-line fallback.
    expect(logger.entries.filter((e) => e.msg?.includes('warm type check is unavailable'))).toEqual([]);
  });
});

describe("the warm check's second project", () => {
  it('imports every library an app may import (libraries.json), so their types are read at boot', () => {
    const warm = readFileSync(join(templateDir, 'agent', 'warm-types', 'libraries.tsx'), 'utf8');
    const imported = [...warm.matchAll(/from '([^']+)'/g)].map((m) => m[1]!.replace(/\/client$/, ''));
    for (const name of libraryNames(templateDir)) expect(imported, name).toContain(name);
  });
});

describe('typeCheck falls back to the command-line tsc', () => {
  const agent = (answer: unknown) => ({ request: async () => answer }) as unknown as AgentChannel;
  const cli = async () => ({
    code: 2,
    signal: null,
    stdout: "src/App.tsx(2,9): error TS2322: Type 'string' is not assignable to type 'number'.\n",
    stderr: '',
  });

  it.each([
    ['a fallback answer', { fallback: 'the server exited' }],
    ['a malformed answer', { errors: [{ file: 'src/App.tsx', line: -1, column: 1, message: 'x' }] }],
    ['no answer', undefined],
  ])('on %s', async (_, answer) => {
    const logger = recordingLogger();
    const errors = await typeCheck({ id: 's1', agent: agent(answer) }, cli, '/app', logger);
    expect(errors).toEqual([
      { file: 'src/App.tsx', line: 2, column: 9, message: "TS2322: Type 'string' is not assignable to type 'number'." },
    ]);
    expect(logger.entries.some((e) => e.msg?.includes('warm type check is unavailable'))).toBe(true);
  });

  it('takes a well-formed warm answer as it is, capped', async () => {
    const long = 'x'.repeat(10_000);
    const errors = warmErrors({ errors: [{ file: 'src/App.tsx', line: 1, column: 2, message: long }] });
    expect(errors?.[0]?.message).toHaveLength(4000);
    expect(warmErrors({ errors: 'nope' })).toBeUndefined();
    expect(warmErrors({ errors: [{ file: 3, line: 1, column: 1, message: '' }] })).toBeUndefined();
  });
});
