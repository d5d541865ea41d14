import dns from 'node:dns';

// Each app's link is http://<id>.localhost:<port>/ (VIBE_APP_DOMAIN's local default). Browsers
// resolve *.localhost to loopback by themselves; Node's resolver here does not. So in the tests
// (and the bench) Node's lookups of those names answer 127.0.0.1, as a browser's would: fetch()
// and http.request then connect to loopback and send the app's own Host header.

type Callback = (err: NodeJS.ErrnoException | null, address: unknown, family?: number) => void;
const original = dns.lookup;

function loopbackName(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost');
}

(dns as { lookup: unknown }).lookup = function lookup(host: string, options: unknown, callback?: Callback) {
  const cb = (typeof options === 'function' ? options : callback) as Callback;
  const opts = (typeof options === 'object' && options !== null ? options : {}) as dns.LookupOptions;
  if (!loopbackName(String(host))) return (original as (...a: unknown[]) => unknown).call(dns, host, options, callback);
  if (opts.all) process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
  else process.nextTick(cb, null, '127.0.0.1', 4);
  return {};
};
