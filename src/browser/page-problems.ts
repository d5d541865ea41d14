import type { Page } from 'playwright-core';

/**
 * What the page itself shows when it is broken: Vite's error overlay, or nothing visible in
 * #root. Plain JavaScript in a string: the bot runs under tsx, whose transform would add helpers
 * (`__name`) to a function passed to the page, where they do not exist.
 */
const PAGE_PROBLEMS = `(() => {
  const problems = [];
  const overlay = document.querySelector('vite-error-overlay');
  if (overlay) {
    const text = (overlay.shadowRoot && overlay.shadowRoot.querySelector('.message')?.textContent) || 'an error';
    problems.push("Vite's error overlay shows: " + text.trim().split('\\n')[0].slice(0, 500));
  }
  const shows = ['CANVAS', 'SVG', 'IMG', 'VIDEO', 'INPUT', 'BUTTON', 'TEXTAREA', 'SELECT', 'IFRAME'];
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width <= 0 || box.height <= 0 || style.visibility === 'hidden' || style.opacity === '0') return false;
    return (el.textContent || '').trim() !== '' || shows.includes(el.tagName.toUpperCase());
  };
  const root = document.getElementById('root');
  if (!root) problems.push('the page has no #root element');
  else if (![root, ...root.querySelectorAll('*')].some(visible))
    problems.push('the page is blank: nothing visible was rendered in #root after it loaded');
  return problems;
})()`;

export async function pageProblems(page: Page): Promise<string[]> {
  // A page stuck in a loop never answers an evaluate: give up after a while, and say so.
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve(['the page stopped responding (its script may loop forever)']), 5000);
  });
  return Promise.race([
    page
      .evaluate<string[]>(PAGE_PROBLEMS)
      .catch((err: Error) => [`the page could not be inspected: ${err.message.split('\n')[0]}`]),
    stuck,
  ]).finally(() => clearTimeout(timer));
}
