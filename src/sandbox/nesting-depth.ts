/**
 * The deepest bracket nesting in a script — ( [ { and template `${` — skipping strings and
 * comments; one linear pass. Real code nests a few dozen levels; thousands only come from
 * input crafted to make a recursive parser slow, so such files are refused before parsing.
 * (A heuristic: regex literals and JSX text are not told apart, which can only miscount.)
 */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  const templates: number[] = []; // depth at which each open `${` returns to template text
  const n = text.length;
  let i = 0;
  const skipTemplateText = () => {
    // Inside `…`: up to the closing backtick, or a `${` that opens code.
    while (i < n) {
      const c = text[i]!;
      if (c === '\\') i += 2;
      else if (c === '`') return void i++;
      else if (c === '$' && text[i + 1] === '{') {
        i += 2;
        templates.push(depth);
        max = Math.max(max, ++depth);
        return;
      } else i++;
    }
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? n : end;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === '"' || c === "'") {
      i++;
      while (i < n && text[i] !== c && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '`') {
      i++;
      skipTemplateText();
    } else if (c === '(' || c === '[' || c === '{') {
      max = Math.max(max, ++depth);
      i++;
    } else if (c === ')' || c === ']' || c === '}') {
      depth = Math.max(0, depth - 1);
      i++;
      if (c === '}' && templates.at(-1) === depth) {
        templates.pop();
        skipTemplateText();
      }
    } else i++;
  }
  return max;
}
