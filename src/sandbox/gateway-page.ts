import type http from 'node:http';

/** The gateway's own small HTML answers (errors, busy, not found). */
export function page(
  res: http.ServerResponse,
  status: number,
  title: string,
  body: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...extra });
  res.end(
    `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:system-ui;margin:3rem"><h1>${title}</h1><p>${body}</p>`,
  );
}
