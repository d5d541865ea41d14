import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';

/**
 * Export name -> icon module (`Timer` -> `timer`), read from lucide-react's own ESM index, so
 * aliases (`TimerIcon`, `LucideTimer`) and renamed icons map exactly as the package says.
 */
export function readLucideIconIndex(root: string): Map<string, string> {
  const index = join(root, 'node_modules', 'lucide-react', 'dist', 'esm', 'lucide-react.mjs');
  const icons = new Map<string, string>();
  if (!existsSync(index)) return icons;
  const line = /export \{([^}]*)\} from '\.\/icons\/([a-z0-9-]+)\.mjs';/g;
  for (const [, names, file] of readFileSync(index, 'utf8').matchAll(line)) {
    for (const spec of names!.split(',')) {
      const m = /^\s*default as (\w+)\s*$/.exec(spec);
      if (m) icons.set(m[1]!, file!);
    }
  }
  return icons;
}

const IMPORT = /import\s*\{([^}]*)\}\s*from\s*(['"])lucide-react\2\s*;?/g;

/**
 * Rewrites `import { A, B as C } from 'lucide-react'` into one default import per icon
 * (`lucide-react/icons/a`, a path the package exports). Without it the dev server ships all
 * ~1,900 icons to the browser. Only the transformed module changes: the app's source (and its
 * type checks) keep the ordinary import. Everything else stays a normal lucide-react import.
 */
export function rewriteLucideImports(code: string, icons: Map<string, string>): string | undefined {
  let changed = false;
  const out = code.replace(IMPORT, (whole, list: string) => {
    const perIcon: string[] = [];
    const rest: string[] = [];
    for (const raw of list.split(',')) {
      const spec = raw.trim();
      if (!spec) continue;
      const m = /^(\w+)(?:\s+as\s+(\w+))?$/.exec(spec);
      const file = m ? icons.get(m[1]!) : undefined;
      if (m && file) perIcon.push(`import ${m[2] ?? m[1]} from 'lucide-react/icons/${file}';`);
      else rest.push(spec); // `type X`, createLucideIcon, LucideProvider, unknown names
    }
    if (perIcon.length === 0) return whole;
    changed = true;
    if (rest.length) perIcon.push(`import { ${rest.join(', ')} } from 'lucide-react';`);
    // One line, so every later line keeps its number (no source map needed).
    return perIcon.join(' ');
  });
  return changed ? out : undefined;
}

export function lucideIcons(root: string): Plugin {
  let icons: Map<string, string> | undefined;
  return {
    name: 'vibe:lucide-icons',
    enforce: 'pre',
    transform(code, id) {
      if (id.includes('/node_modules/') || !/\.[cm]?[jt]sx?$/.test(id.split('?')[0]!) || !code.includes('lucide-react'))
        return;
      icons ??= readLucideIconIndex(root);
      const rewritten = rewriteLucideImports(code, icons);
      return rewritten === undefined ? undefined : { code: rewritten, map: null };
    },
  };
}
