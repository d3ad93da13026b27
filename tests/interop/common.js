// What the interop scripts share: their command-line options, and the
// protobuf wire helpers and request they send (LookupCitizenRequest:
// 1 citizen_id, 2 purpose, 3 dossier_id, 4 fields (FieldMask: 1 paths),
// 5 officer).
'use strict';

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function varint(n) {
  const out = [];
  while (n > 127) { out.push((n & 127) | 128); n = Math.floor(n / 128); }
  out.push(n);
  return Buffer.from(out);
}

// A length-delimited field.
function field(number, bytes) {
  return Buffer.concat([varint(number * 8 + 2), varint(bytes.length), bytes]);
}

// A LookupCitizenRequest without an officer (synthetic ID): answered
// INVALID_ARGUMENT by the gateway's own validation, so it never leaves the
// gateway.
const lookupWithoutOfficer = Buffer.concat([
  field(1, Buffer.from('033085012345')), field(2, Buffer.from('1.001193')),
  field(3, Buffer.from('000.00.01.H31-251127-00042'))]);

module.exports = { arg, field, lookupWithoutOfficer };
