// The ceiling for the analytics ingest benchmark: node:http alone, no framework, reading
// each request's body and answering 202 with no body (GET /healthz: 200). Whatever the
// service does for a page view comes on top of this.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 3002);
createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  req.resume();
  req.on('end', () => res.writeHead(202, { 'content-length': '0' }).end());
}).listen(port, '127.0.0.1');
