import type { Plugin } from 'vite';

/**
 * What one page load sends at most: reports, and characters of a message (the bot keeps none
 * longer than 200, so a long one is cut here rather than dropped there) and of a stack.
 */
export const REPORT_LIMITS = { reports: 5, message: 200, stack: 2000 };

/**
 * Uncaught errors of the app's viewers go back to the bot (which posts a note with a "Fix it"
 * button in the app's thread). The script is put into index.html here, in dev and in build,
 * because the model rewrites everything under src/ (main.tsx included) and could drop it there.
 *
 * `url` is where reports go: the gateway's `/apps/<id>/__vibe/errors` (VIBE_ERROR_URL, by
 * default `${VIBE_BASE}__vibe/errors` on the page's own origin). A sandbox has no egress: the
 * browser sends the report, never the sandbox.
 */
export function errorReporter(opts: { url: string; base: string }): Plugin {
  const local = `${opts.base}__vibe/errors`;
  return {
    name: 'vibe:error-reporter',
    transformIndexHtml: {
      order: 'pre',
      handler: () => [{ tag: 'script', children: reporterScript(opts.url), injectTo: 'head' }],
    },
    // Reports that reach the sandbox itself (a Modal tunnel with no public gateway to send them
    // to) are dropped here, unread, instead of falling through to Vite.
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== local) return next();
        req.resume();
        res.writeHead(204, { connection: 'close' }).end();
      });
    },
  };
}

/**
 * A classic inline script at the end of head (it runs before the app's modules, which are deferred, so errors while they load are
 * caught too). It sends only `{ message, stack }`, truncated, with URL queries and fragments cut
 * out of the stack; never page content, input values or the page's URL. At most
 * REPORT_LIMITS.reports per page load, each distinct message + top frame once, as a text/plain
 * beacon (no CORS preflight, survives the page unloading).
 */
export function reporterScript(url: string): string {
  const L = REPORT_LIMITS;
  // String.raw: the regular expressions' backslashes reach the page as written.
  return String.raw`(function(){var u=${JSON.stringify(url).replaceAll('<', '\\u003c')},n=0,seen=Object.create(null);
var q=/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#)]*)[?#][^\s)]*?((?::\d+){0,2})(?=\)|\s|$)/gi;
function clip(s,m){s=String(s).replace(q,'$1$2');return s.length>m?s.slice(0,m):s}
function send(err,fallback){try{if(n>=${L.reports})return;
var isErr=err!==null&&typeof err==='object'&&'message' in err;
var m=clip(isErr?err.message:err!=null?err:fallback,${L.message});
var s=isErr&&typeof err.stack==='string'?clip(err.stack,${L.stack}):'';
var top=(s.split('\n').filter(function(l){return /:\d+:\d+\)?\s*$/.test(l)})[0]||'').trim();
var k=m+'\n'+top;if(!m||seen[k])return;seen[k]=1;n++;
var b=JSON.stringify(s?{message:m,stack:s}:{message:m});
if(!(navigator.sendBeacon&&navigator.sendBeacon(u,b)))fetch(u,{method:'POST',body:b,keepalive:true,mode:'no-cors',credentials:'omit',headers:{'Content-Type':'text/plain'}}).catch(function(){})}catch(e){}}
addEventListener('error',function(e){if(e instanceof ErrorEvent)send(e.error,e.message)});
addEventListener('unhandledrejection',function(e){send(e.reason,'Unhandled promise rejection')});})();`;
}
