// Lists System Log events from an idlog server with Okta's Node.js SDK and
// prints, per query, the uuids in the order the SDK's collection yields
// them. Driven by internal/api/nodesdk_test.go:
//
//   node list.js < spec.json
//   spec: {"orgUrl": "...", "token": "...",
//          "queries": [{"name": "...", "params": {since, until, filter, q, limit, sortOrder}, "max": N}]}
//
// "max" stops reading a polling stream (which never ends) after N events.
'use strict';
const okta = require('@okta/okta-sdk-nodejs');

async function main() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const spec = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const client = new okta.Client({ orgUrl: spec.orgUrl, token: spec.token });
  const out = {};
  for (const q of spec.queries) {
    const ids = [];
    try {
      const collection = await client.systemLogApi.listLogEvents(q.params);
      for await (const ev of collection) {
        if (ev) ids.push(ev.uuid);
        if (q.max && ids.length >= q.max) break;
      }
      out[q.name] = { uuids: ids };
    } catch (err) {
      out[q.name] = { uuids: ids, error: String(err && err.stack || err) };
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
