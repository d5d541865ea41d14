/** What a build tool would follow in a stylesheet: an at-rule, or a url()/image-set() target. */
export type CssFinding =
  | { kind: 'at-rule'; name: string; params: string; target?: string; offset: number }
  | { kind: 'url'; target: string; offset: number };

const IDENT = /[-\w]/;

/**
 * One pass over a stylesheet, skipping comments and strings: every at-rule (with its prelude
 * and, for `@import`-like rules, the quoted or url() path it names) and every url() or
 * image-set() target. Linear in the input, whatever it holds (no backtracking regexes).
 */
export function scanCss(text: string): CssFinding[] {
  const out: CssFinding[] = [];
  const n = text.length;
  let i = 0;
  let depth = 0; // parentheses
  const imageSets: number[] = []; // the depth outside each open image-set(
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

  while (i < n) {
    const c = text[i]!;
    if (c === '/' && text[i + 1] === '*') {
      i = skipComment(i);
    } else if (c === '"' || c === "'") {
      const end = skipString(i);
      if (imageSets.length > 0) out.push({ kind: 'url', target: text.slice(i + 1, end - 1), offset: i });
      i = end;
    } else if (c === '@') {
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
      i = k; // the block (if any) is scanned as ordinary text, so its url()s are found too
    } else if ((c === 'u' || c === 'U') && startsWord(i, 'url(')) {
      const [target, end] = callArgument(i + 3);
      out.push({ kind: 'url', target, offset: i });
      i = end;
    } else if (
      (c === 'i' || c === 'I' || c === '-') &&
      (startsWord(i, 'image-set(') || startsWord(i, '-webkit-image-set('))
    ) {
      // image-set("a.png" 1x, url(b.png) 2x): its strings are URLs as well.
      i = text.indexOf('(', i) + 1;
      imageSets.push(depth++);
    } else if (c === '(') {
      depth++;
      i++;
    } else if (c === ')') {
      depth = Math.max(0, depth - 1);
      if (imageSets.at(-1) === depth) imageSets.pop();
      i++;
    } else {
      i++;
    }
  }
  return out;
}
