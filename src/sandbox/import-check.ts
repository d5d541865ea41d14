import { posix } from 'node:path';
import type { CheckError, FileMap } from '../core/ports.ts';

// Specifiers of `import … from 'x'` / `export … from 'x'` (the clause holds only names, braces,
// commas and `*`, so JSX text such as "data from 'x'" does not match), `import 'x'`, `import('x')`.
const SPECIFIER =
  /\b(?:import|export)\s+(?:type\s+)?[\w$*{},\s]*?\bfrom\s*(['"])([^'"\n]+)\1|\bimport\s*(['"])([^'"\n]+)\3|\bimport\s*\(\s*(['"])([^'"\n]+)\5\s*\)/g;
// Comments, blanked to spaces (newlines kept) so positions still match the source.
const COMMENT = /\/\*[\s\S]*?\*\/|(?<![:'"\\])\/\/.*$/gm;
// Relative imports of these kinds are not seen by tsc (Vite's types declare them as modules).
const ASSET = /\.(css|svg|json|md|png|jpe?g|gif|webp)(\?.*)?$/;

/** "react-dom/client" -> "react-dom", "@scope/pkg/x" -> "@scope/pkg". */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function lineAndColumn(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - before.lastIndexOf('\n') };
}

/**
 * Imports tsc does not catch: bare imports of packages that are installed only as transitive
 * dependencies (tsc would resolve them) and relative imports of missing CSS/asset files.
 * `libraries` are the names the model may import (libraries.json).
 */
export function checkImports(files: FileMap, libraries: string[]): CheckError[] {
  const allowed = new Set(libraries);
  const errors: CheckError[] = [];
  for (const [file, text] of Object.entries(files)) {
    if (!/\.(tsx?|jsx?)$/.test(file)) continue;
    const code = text.replace(COMMENT, (c) => c.replace(/[^\n]/g, ' '));
    for (const m of code.matchAll(SPECIFIER)) {
      const specifier = m[2] ?? m[4] ?? m[6] ?? '';
      const at = lineAndColumn(text, m.index + m[0].lastIndexOf(specifier));
      if (specifier.startsWith('.')) {
        const target = posix.normalize(posix.join(posix.dirname(file), specifier.replace(/\?.*$/, '')));
        if (ASSET.test(specifier) && !(target in files)) {
          errors.push({ file, ...at, message: `Cannot find file '${specifier}' (${target} does not exist)` });
        }
        continue;
      }
      if (specifier.startsWith('/')) {
        errors.push({ file, ...at, message: `Absolute import '${specifier}' is not allowed; use a relative path like './Timer'` });
        continue;
      }
      const name = packageName(specifier);
      if (!allowed.has(name)) {
        errors.push({ file, ...at, message: `Package '${name}' is not available. The libraries you can import are: ${libraries.join(', ')}` });
      }
    }
  }
  return errors;
}
