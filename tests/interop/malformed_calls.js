// Sends malformed calls to the gateway with grpc-js, a client independent of
// the gateway's gRPC C++, and prints one JSON line: how many calls got
// which code, how many overran their deadline, the slowest answer.
//
//   node malformed_calls.js --port P --certs DIR --client NAME --calls N
//
// Kinds, in turn: random bytes, a truncated request, a wrong wire type,
// invalid UTF-8 in a string field, a 10,000-path field mask, a 1 MB string,
// 7 KiB of metadata, an unknown method. Every call has a 15 s deadline (1 MB requests, 32 in
// flight, on a loaded 2-core machine); an answer later than 1 s past it
// counts as overrun.
'use strict';
const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const { arg, field, lookupWithoutOfficer } = require('./common');

const port = arg('port');
const certs = arg('certs');
const client = arg('client', 'dossier-system');
const total = Number(arg('calls', '10000'));

const good = lookupWithoutOfficer;
function maskOf(n) {
  const paths = [];
  for (let i = 0; i < n; i++) paths.push(field(1, Buffer.from('name')));
  return field(4, Buffer.concat(paths));
}
const hugeMask = Buffer.concat([good, maskOf(10000)]);
const hugeString = field(1, Buffer.alloc(1000000, 0x37));

const kinds = [
  ['random_bytes', () => require('crypto').randomBytes(1 + Math.floor(Math.random() * 64))],
  ['truncated', () => good.subarray(0, 1 + Math.floor(Math.random() * (good.length - 2)))],
  ['wrong_wire_type', () => Buffer.from([0x0f, 0x01, 0x02])],
  ['invalid_utf8', () => field(1, Buffer.from([0x30, 0xc3, 0x28, 0xff]))],
  ['mask_10000_paths', () => hugeMask],
  ['string_1mb', () => hugeString],
  ['metadata_7kib', () => good],
  ['unknown_method', () => good],
];

const credentials = grpc.credentials.createSsl(
  fs.readFileSync(certs + '/ca.pem'), fs.readFileSync(certs + '/' + client + '.key'),
  fs.readFileSync(certs + '/' + client + '.pem'));
const channel = new grpc.Client('127.0.0.1:' + port, credentials, {
  'grpc.max_send_message_length': 4 << 20,
});
const identity = (b) => b;

const codes = {};
const byKind = {};
let overran = 0;
let slowestMs = 0;
let done = 0;
let started = 0;
const inFlight = 32;

function one() {
  if (started >= total) return;
  const i = started++;
  const [kind, make] = kinds[i % kinds.length];
  const method = kind === 'unknown_method'
    ? '/lienthong.v1.PopulationService/NoSuchMethod'
    : '/lienthong.v1.PopulationService/LookupCitizen';
  const metadata = new grpc.Metadata();
  if (kind === 'metadata_7kib') metadata.set('x-junk', 'j'.repeat(7 * 1024));
  const deadlineMs = 15000;
  const start = Date.now();
  channel.makeUnaryRequest(method, identity, identity, make(), metadata,
    { deadline: new Date(start + deadlineMs) }, (err) => {
      const took = Date.now() - start;
      const code = err ? grpc.status[err.code] : 'OK';
      codes[code] = (codes[code] || 0) + 1;
      byKind[kind] = byKind[kind] || {};
      byKind[kind][code] = (byKind[kind][code] || 0) + 1;
      if (took > deadlineMs + 1000) overran++;
      slowestMs = Math.max(slowestMs, took);
      if (++done === total) {
        console.log(JSON.stringify({ calls: done, codes, by_kind: byKind, overran, slowest_ms: slowestMs }));
        channel.close();
      } else {
        one();
      }
    });
}
for (let i = 0; i < inFlight; i++) one();
