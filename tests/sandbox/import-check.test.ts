import { describe, expect, it } from 'vitest';
import { checkImports } from '../../src/sandbox/import-check.ts';

const libs = ['react', 'react-dom', 'lucide-react'];

describe('checkImports', () => {
  it('accepts curated packages, their subpaths and relative imports', () => {
    const files = {
      'src/App.tsx': [
        "import { useState } from 'react';",
        "import {",
        "  Timer,",
        "} from 'lucide-react';",
        "import { createRoot } from 'react-dom/client';",
        "import Thing from './Thing';",
        "import './index.css';",
        "// import _ from 'lodash';",
        "export default function App() { return <p>data from 'somewhere' via http://x.y</p>; }",
      ].join('\n'),
      'src/index.css': '@import "tailwindcss";',
    };
    expect(checkImports(files, libs)).toEqual([]);
  });

  it('flags packages outside libraries.json with line and column, and missing CSS files', () => {
    const files = {
      'src/App.tsx': ["import React from 'react';", "import { produce } from 'immer';", "import './missing.css';", "const d = await import('@scope/pkg/sub');"].join('\n'),
    };
    const errors = checkImports(files, libs);
    expect(errors.map((e) => [e.file, e.line, e.column])).toEqual([
      ['src/App.tsx', 2, 26],
      ['src/App.tsx', 3, 9],
      ['src/App.tsx', 4, 25],
    ]);
    expect(errors[0]?.message).toBe("Package 'immer' is not available. The libraries you can import are: react, react-dom, lucide-react");
    expect(errors[1]?.message).toMatch(/missing\.css/);
    expect(errors[2]?.message).toMatch(/'@scope\/pkg'/);
  });
});
