// The ceiling of a Node HTTP/JSON front end on this machine: a bare http server that parses each request's JSON body,
// keeps values in a Map and answers a small JSON object. No framework, no replication, no disk.
const http = require('node:http');

const values = new Map();
http
  .createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let body;
      if (req.method === 'PUT') {
        values.set(req.url, JSON.parse(Buffer.concat(chunks).toString('utf8')).value);
        body = '{"ok":true}';
      } else {
        // Always 200: a ceiling run should not count a key its PUT run did not reach as an error.
        body = JSON.stringify({ key: req.url, value: values.get(req.url) ?? null });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
  })
  .listen(Number(process.env.PORT ?? 18999), '127.0.0.1');
