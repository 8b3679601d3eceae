// webhook_sink.mjs PORT_FILE EXCHANGES [FAIL_FIRST]: a webhook receiver for the alert tests. Listens on
// a free loopback port (written to PORT_FILE once listening), answers each POST 503 for the first
// FAIL_FIRST requests and 200 after, and appends each request to EXCHANGES as a line that
// validate_responses.mjs checks against docs/openapi.yaml's webhook alertNotification:
// {"method","route","webhook","status","content_type","body"}. Runs until killed.
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [portFile, exchanges, failFirst = '0'] = process.argv.slice(2);
if (!portFile || !exchanges) {
  console.error('usage: webhook_sink.mjs PORT_FILE EXCHANGES [FAIL_FIRST]');
  process.exit(2);
}
let received = 0;
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const status = received++ < Number(failFirst) ? 503 : 200;
    appendFileSync(exchanges, JSON.stringify({
      method: req.method, route: `webhook:${req.url}`, webhook: 'alertNotification', status,
      content_type: req.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString('utf8'),
    }) + '\n');
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end('{}');
  });
});
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
