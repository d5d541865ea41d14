// The light view's `vite build --watch` child builds every source the bot writes, even when no
// file the last build read changed: a new file a failed import named (a repair round), or a file
// nothing imports (it still changes the source hash the bot asks for). The browser check opens
// that build, so a build that never comes would fail the version (issue 23).
import { describe, expect, it } from 'vitest';
import { BuildFailedError } from '../../src/core/errors.ts';
import { sourceHash } from '../../src/core/apps/source-hash.ts';
import { needs } from '../support/needs.ts';
import { templateFiles, useLocalProvider } from './sandbox-test-kit.ts';

const APP = "import { Face } from './Face';\nexport default function App() { return <Face />; }\n";
const FACE = "export function Face() { return <p className='p-2'>face</p>; }\n";

describe.runIf(needs('template'))('the light build follows every written source', () => {
  const local = useLocalProvider('vibe-light-watch-');

  it(
    'builds after a repair adds the file an import named, and after a file nothing imports',
    { timeout: 150_000 },
    async () => {
      const broken = { ...templateFiles(), 'src/App.tsx': APP };
      const { id } = await local().boot('watch1', broken);
      // The import has no file yet: that build fails, and says so.
      const failed = await local()
        .lightBuild(id, sourceHash(broken))
        .catch((err: unknown) => err);
      expect(failed).toBeInstanceOf(BuildFailedError);
      // The repair adds only the missing file: App.tsx, the one file the failed build read, is unchanged.
      const repaired = { ...broken, 'src/Face.tsx': FACE };
      expect(await local().write(id, repaired)).toEqual([]);
      const built = await local().lightBuild(id, sourceHash(repaired));
      expect([...built.keys()]).toContain('index.html');
      // A file nothing imports changes the source, not what the last build read.
      const noted = { ...repaired, 'src/notes/todo.ts': 'export const todo = 1;\n' };
      expect(await local().write(id, noted)).toEqual([]);
      expect([...(await local().lightBuild(id, sourceHash(noted))).keys()]).toContain('index.html');
    },
  );
});
