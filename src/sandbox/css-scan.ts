/**
 * What a build tool would follow in a stylesheet: an at-rule, or a url()/image-set() target.
 * `prelude` names the at-rule whose prelude holds the url (`@apply bg-[url(…)]`): Tailwind copies
 * those into the built CSS, where Vite resolves them against a file that is not the one written.
 */
export type CssFinding =
  | { kind: 'at-rule'; name: string; params: string; target?: string; offset: number }
  | { kind: 'url'; target: string; offset: number; prelude?: string };

const IDENT = /[-\w]/;
/** An image-set() descriptor or type(), never a URL: 1x, 2.5dppx, 300w. */
const DESCRIPTOR = /^(\d*\.?\d+(x|dppx|dpi|dpcm|w|h)|type|url|-webkit-image-set|image-set)$/i;

/**
 * One pass over a stylesheet, skipping comments: every at-rule (with its prelude and, for
 * `@import`-like rules, the quoted or url() path it names) and every url() or image-set() target,
 * in declarations, in at-rule preludes and inside strings (Vite rewrites `url(` wherever it
 * appears in a declaration's value, quotes or not). Linear in the input, whatever it holds.
 */
export function scanCss(text: string): CssFinding[] {
  const out: CssFinding[] = [];
  const n = text.length;
  let i = 0;
  let depth = 0; // parentheses
  /** Each open image-set(: the depth outside it, and whether its next candidate's URL is due. */
  const imageSets: { depth: number; expectUrl: boolean }[] = [];
  /** The at-rule whose prelude is being scanned, where it ends, and its own target's url( (not a finding). */
  let prelude: { name: string; end: number; targetAt: number } | undefined;
  const push = (target: string, offset: number) =>
    out.push(prelude ? { kind: 'url', target, offset, prelude: prelude.name } : { kind: 'url', target, offset });
  /** Index just past the string that starts at `i` (an unterminated one ends at the line). */
  const skipString = (at: number): number => {
    const quote = text[at];
    let j = at + 1;
    while (j < n && text[j] !== quote && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
    return Math.min(j + 1, n);
  };
  const skipComment = (at: number): number => {
    const end = text.indexOf('*/', at + 2);
    return end === -1 ? n : end + 2;
  };
  /** The argument of the function call whose "(" is at `open`: [its text unquoted, end index]. */
  const callArgument = (open: number): [string, number] => {
    let j = open + 1;
    while (j < n && /\s/.test(text[j]!)) j++;
    if (text[j] === '"' || text[j] === "'") {
      const end = skipString(j);
      let k = end;
      while (k < n && text[k] !== ')' && text[k] !== '\n') k++;
      return [text.slice(j + 1, end - 1), k + 1];
    }
    const close = text.indexOf(')', j);
    const end = close === -1 ? n : close;
    return [text.slice(j, end).trim(), end + 1];
  };
  const startsWord = (at: number, word: string) =>
    text.slice(at, at + word.length).toLowerCase() === word && (at === 0 || !IDENT.test(text[at - 1]!));
  /** The innermost image-set( when `i` is directly inside it (not in a nested call). */
  const topSet = () => (imageSets.length > 0 && imageSets.at(-1)!.depth === depth - 1 ? imageSets.at(-1) : undefined);
  /** url( and image-set( written inside a string: Vite's pattern matching sees those too. */
  const scanString = (from: number, to: number) => {
    const body = text.slice(from, to);
    for (const m of body.matchAll(/url\(\s*(["']?)([^"')]*)/gi)) push(m[2]!.trim(), from + m.index);
    const set = body.search(/image-set\(/i);
    if (set === -1) return;
    for (const m of body.slice(set).matchAll(/[^\s,()"']+/g))
      if (!DESCRIPTOR.test(m[0])) push(m[0], from + set + m.index);
  };

  while (i < n) {
    const c = text[i]!;
    if (prelude && i >= prelude.end) prelude = undefined;
    const set = topSet();
    if (c === '/' && text[i + 1] === '*') {
      i = skipComment(i);
    } else if (c === '"' || c === "'") {
      const end = skipString(i);
      if (set?.expectUrl) push(text.slice(i + 1, end - 1), i);
      else scanString(i + 1, end - 1);
      if (set) set.expectUrl = false;
      i = end;
    } else if (c === '@' && !prelude) {
      let j = i + 1;
      while (j < n && IDENT.test(text[j]!)) j++;
      const name = text.slice(i + 1, j).toLowerCase();
      // The prelude runs to the first `;`, `{` or `}` outside strings and comments.
      let k = j;
      while (k < n && text[k] !== ';' && text[k] !== '{' && text[k] !== '}') {
        if (text[k] === '"' || text[k] === "'") k = skipString(k);
        else if (text[k] === '/' && text[k + 1] === '*') k = skipComment(k);
        else k++;
      }
      const params = text.slice(j, k);
      const finding: CssFinding = { kind: 'at-rule', name, params: params.trim(), offset: i };
      const first = /^\s*(?:(["'])|url\()/i.exec(params);
      if (first)
        finding.target = first[1]
          ? text.slice(j + first[0].length, skipString(j + first[0].length - 1) - 1)
          : callArgument(j + first[0].length - 1)[0];
      out.push(finding);
      // The prelude is scanned too (url()s in `@apply bg-[url(…)]`), then the block as ordinary text.
      prelude = { name, end: k, targetAt: first && !first[1] ? j + first[0].length - 4 : -1 };
      i = j;
    } else if ((c === 'u' || c === 'U') && startsWord(i, 'url(')) {
      const [target, end] = callArgument(i + 3);
      if (i !== prelude?.targetAt) push(target, i);
      if (set) set.expectUrl = false;
      i = end;
    } else if (
      (c === 'i' || c === 'I' || c === '-') &&
      (startsWord(i, 'image-set(') || startsWord(i, '-webkit-image-set('))
    ) {
      // image-set("a.png" 1x, b.png 2x, url(c.png) 3x): each candidate's first word is a URL.
      if (set) set.expectUrl = false;
      i = text.indexOf('(', i) + 1;
      imageSets.push({ depth: depth++, expectUrl: true });
    } else if (c === '(') {
      depth++;
      i++;
    } else if (c === ')') {
      depth = Math.max(0, depth - 1);
      if (imageSets.at(-1)?.depth === depth) imageSets.pop();
      i++;
    } else if (c === ',' && set) {
      set.expectUrl = true;
      i++;
    } else if (set?.expectUrl && !/[\s;{}]/.test(c)) {
      // A bare candidate (image-set(../a.png 1x)): Vite resolves it like url(../a.png).
      let j = i;
      while (j < n && !/[\s,()"';{}]/.test(text[j]!)) j++;
      if (text[j] !== '(') push(text.slice(i, j), i);
      set.expectUrl = false;
      i = j;
    } else {
      i++;
    }
  }
  return out;
}
