import { scanCss } from './css-scan.ts';

/** A url() or image-set() target written inside a Tailwind arbitrary value (`bg-[url(…)]`). */
export interface ClassUrl {
  target: string;
  offset: number;
}

const CALL = /url\(|image-set\(/i;

/**
 * Tailwind reads every file under src/ (any extension) for class candidates, comments and
 * strings included, and copies an arbitrary value such as `bg-[url(…)]`, `[mask-image:url(…)]`
 * or `bg-[image-set("…"_1x)]` into the built CSS, where Vite resolves its url() as a file.
 * A candidate never spans lines and its value sits in brackets: so every bracketed run of a line
 * that holds `url(` or `image-set(` is scanned as CSS (underscores read as spaces, as Tailwind
 * does). Linear in the input.
 */
export function scanClassUrls(text: string): ClassUrl[] {
  const out: ClassUrl[] = [];
  let lineStart = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    if (CALL.test(text.slice(lineStart, lineEnd))) {
      // The outermost [ … ] runs of the line; one left open runs to the line's end.
      let depth = 0;
      let open = 0;
      for (let i = lineStart; i <= lineEnd; i++) {
        const c = text[i];
        if (c === '[' && depth++ === 0) open = i + 1;
        else if ((c === ']' && depth > 0 && --depth === 0) || (i === lineEnd && depth > 0)) {
          const value = text.slice(open, i);
          if (CALL.test(value))
            for (const f of scanCss(value.replaceAll('_', ' ')))
              if (f.kind === 'url') out.push({ target: f.target, offset: open + f.offset });
          depth = 0;
        }
      }
    }
    lineStart = lineEnd + 1;
  }
  return out;
}
