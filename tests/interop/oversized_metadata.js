// Sends header blocks over the gateway's max_metadata_bytes with grpc-js
// (a client independent of the gateway's gRPC C++) and prints one JSON line:
// the code each oversized or ordinary call got, in order, on one channel,
// and the codes a second channel's calls got meanwhile.
//
//   node oversized_metadata.js --port P --certs DIR --client NAME
//
// The first channel sends, one call at a time: nothing extra, one 20 KiB
// header, nothing, one 1 MiB header, nothing, 2,000 small headers, nothing.
// (An ordinary call that finds the connection closing is retried: below.)
// The second, on its own connection, keeps 4 ordinary calls in flight until
// the first is done. Every call has a 10 s deadline.
'use strict';
const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const { arg, lookupWithoutOfficer } = require('./common');

const port = arg('port');
const certs = arg('certs');
const client = arg('client', 'dossier-system');

// Answered INVALID_ARGUMENT by the gateway itself: an ordinary call.
const request = lookupWithoutOfficer;

function channel() {
  const credentials = grpc.credentials.createSsl(
    fs.readFileSync(certs + '/ca.pem'), fs.readFileSync(certs + '/' + client + '.key'),
    fs.readFileSync(certs + '/' + client + '.pem'));
  // A subchannel (connection) of its own, not shared with the other channel.
  return new grpc.Client('127.0.0.1:' + port, credentials,
    { 'grpc.use_local_subchannel_pool': 1 });
}

function call(ch, metadata, done) {
  const identity = (b) => b;
  const start = Date.now();
  ch.makeUnaryRequest('/lienthong.v1.PopulationService/LookupCitizen', identity, identity,
    request, metadata, { deadline: new Date(start + 10000) }, (err) => {
      done(err ? grpc.status[err.code] : 'OK', Date.now() - start);
    });
}

const steps = [
  ['none', () => new grpc.Metadata()],
  ['one_20kib_header', () => { const m = new grpc.Metadata(); m.set('x-junk', 'j'.repeat(20 * 1024)); return m; }],
  ['none', () => new grpc.Metadata()],
  ['one_1mib_header', () => { const m = new grpc.Metadata(); m.set('x-junk', 'j'.repeat(1 << 20)); return m; }],
  ['none', () => new grpc.Metadata()],
  ['2000_small_headers', () => {
    const m = new grpc.Metadata();
    for (let i = 0; i < 2000; i++) m.set('x-h' + i, 'value' + i);
    return m;
  }],
  ['none', () => new grpc.Metadata()],
];

const offender = channel();
const bystander = channel();
const offenderCodes = [];
const bystanderCodes = {};
let bystanderCalls = 0;
let slowestMs = 0;
let finished = false;
let bystandersInFlight = 0;

function report() {
  if (!finished || bystandersInFlight > 0) return;
  console.log(JSON.stringify({ offender: offenderCodes, offender_retries: offenderRetries, bystander: bystanderCodes,
    bystander_calls: bystanderCalls, slowest_ms: slowestMs }));
  offender.close();
  bystander.close();
}

function bystanderLoop() {
  if (finished) { report(); return; }
  bystandersInFlight++;
  call(bystander, new grpc.Metadata(), (code, ms) => {
    bystandersInFlight--;
    bystanderCalls++;
    bystanderCodes[code] = (bystanderCodes[code] || 0) + 1;
    slowestMs = Math.max(slowestMs, ms);
    bystanderLoop();
  });
}

// gRPC C++ closes the connection that carried an oversized header block
// (its HPACK state can no longer be trusted), so an ordinary call right
// after one may find that connection closing: UNAVAILABLE. Such a call is
// tried again, up to 30 times 100 ms apart, and the retries are counted.
let offenderRetries = 0;
function step(i, attempt = 0) {
  if (i === steps.length) { finished = true; report(); return; }
  const [name, metadata] = steps[i];
  call(offender, metadata(), (code, ms) => {
    slowestMs = Math.max(slowestMs, ms);
    if (name === 'none' && code === 'UNAVAILABLE' && attempt < 30) {
      offenderRetries++;
      setTimeout(() => step(i, attempt + 1), 100);
      return;
    }
    offenderCodes.push(name + ':' + code);
    step(i + 1);
  });
}

// The bystander's first answer shows its connection is up before the
// offender starts.
call(bystander, new grpc.Metadata(), (code) => {
  bystanderCalls++;
  bystanderCodes[code] = (bystanderCodes[code] || 0) + 1;
  for (let i = 0; i < 4; i++) bystanderLoop();
  step(0);
});
