// The script parser's own process (see script-parser.ts): oxc-parser, a native parser, reads
// text a model wrote from a stranger's words. Deep or odd input can exhaust its stack or its
// memory; here that ends this process, never the bot. Plain JavaScript, started with `node`.
import { createRequire } from 'node:module';

const { parseSync } = createRequire(import.meta.url)('oxc-parser');

process.on('message', ({ id, file, text }) => {
  try {
    const lang = file.endsWith('.tsx') ? 'tsx' : file.endsWith('.ts') ? 'ts' : file.endsWith('.jsx') ? 'jsx' : 'js';
    const r = parseSync(file, text, { lang, sourceType: 'module' });
    const errors = r.errors.map((e) => ({ message: e.message, start: e.labels?.[0]?.start ?? 0 }));
    const m = r.module;
    process.send({
      id,
      ok: true,
      result: {
        errors,
        imports: [
          ...m.staticImports.map((i) => ({ value: i.moduleRequest.value, start: i.moduleRequest.start })),
          ...m.staticExports.flatMap((e) =>
            e.entries
              .filter((x) => x.moduleRequest)
              .map((x) => ({ value: x.moduleRequest.value, start: x.moduleRequest.start })),
          ),
        ],
        dynamicImports: m.dynamicImports.map((d) => ({ start: d.moduleRequest.start, end: d.moduleRequest.end })),
        importMetas: m.importMetas.map((x) => ({ start: x.start, end: x.end })),
      },
    });
  } catch (err) {
    process.send({ id, ok: false, error: String(err?.message ?? err) });
  }
});
process.on('disconnect', () => process.exit(0));
