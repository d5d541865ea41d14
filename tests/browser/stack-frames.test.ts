import { describe, expect, it } from 'vitest';
import { appFrame, mapperForBuild, parseStack, type SourceMapper } from '../../src/browser/stack-frames.ts';

// A stack is the page's words, and a page may write its own (`err.stack = …`) as long as it
// likes: the check looks at its first frames only, and parses each of the build's maps once.

const own = 'http://app.localhost:1/apps/x/';
// One mapping, to a library bundled into the app's chunk: never the app's own code.
const map = JSON.stringify({ version: 3, sources: ['../node_modules/lib/index.js'], names: [], mappings: 'AAAA' });
const build = new Map<string, Uint8Array>([
  ['assets/index-abc.js', Buffer.from('throw 1')],
  ['assets/index-abc.js.map', Buffer.from(map)],
]);

describe('stack frames of a crafted stack', () => {
  it('looks at the first 20 frames of a stack of 10,000, and parses the chunk map once', async () => {
    const stack = `Error: crafted\n${`    at f (${own}assets/index-abc.js:1:1)\n`.repeat(10_000)}`;
    expect(parseStack(stack)).toHaveLength(10_000);
    const inner = mapperForBuild(build, own);
    const asked: string[] = [];
    const maps = new Set<unknown>();
    const counting: SourceMapper = async (url) => {
      asked.push(url);
      const m = await inner(url);
      maps.add(m);
      return m;
    };
    expect(await appFrame(parseStack(stack), counting)).toBeUndefined();
    expect(asked).toHaveLength(20);
    expect(maps.size).toBe(1); // one parsed map, handed out every time
  });
});
