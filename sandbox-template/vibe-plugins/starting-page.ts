/** Served at the light link until the first production build is ready. */
export function startingPage(eventsUrl: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="UTF-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Starting…</title><link rel="icon" href="data:,">
<style>body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#020617;color:#e2e8f0;font:500 18px system-ui,sans-serif}
i{width:32px;height:32px;margin-right:14px;border:4px solid #334155;border-top-color:#38bdf8;border-radius:50%;animation:s 1s linear infinite}@keyframes s{to{transform:rotate(1turn)}}</style>
${reloadScript(eventsUrl, '')}
</head><body><i></i><p id="vibe-starting">Starting your app…</p></body></html>
`;
}

/**
 * Reloads the page as soon as the server announces a build other than `version` (SSE), with a
 * slow timed reload as a fallback for a proxy that buffers event streams.
 */
export function reloadScript(eventsUrl: string, version: string): string {
  const fallbackMs = version ? 0 : 5000;
  return `<script>(function(){var v=${JSON.stringify(version)};var s=new EventSource(${JSON.stringify(eventsUrl)});s.addEventListener("version",function(e){if(e.data!==v){s.close();location.reload();}});${fallbackMs ? `setTimeout(function(){location.reload();},${fallbackMs});` : ''}})();</script>`;
}
