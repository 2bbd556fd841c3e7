import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ENVELOPE_MAGIC, HEADER_BYTES, checkEnvelope, writeHeader } from '../src/l2/envelope.ts';
import { fillPattern, testKeys } from './l2-fixtures.ts';

function sealed(size: number, keyIndex = 0): { header: Uint8Array; payload: Uint8Array } {
  const payload = new Uint8Array(size);
  fillPattern(payload, 3);
  const header = new Uint8Array(HEADER_BYTES);
  writeHeader(header, testKeys(2), keyIndex, payload);
  return { header, payload };
}

test('a sealed object passes its check', () => {
  const { header, payload } = sealed(10_000);
  assert.is(checkEnvelope(header, payload, testKeys(2), 0, HEADER_BYTES + payload.length), null);
});

test('an empty payload round-trips', () => {
  const { header, payload } = sealed(0);
  assert.is(checkEnvelope(header, payload, testKeys(2), 0, HEADER_BYTES), null);
});

test('the header starts with the magic KVT2', () => {
  const { header } = sealed(16);
  assert.is(new DataView(header.buffer).getUint32(0, true), ENVELOPE_MAGIC);
  assert.is(new TextDecoder().decode(header.subarray(0, 4)), 'KVT2');
});

test('a flipped payload bit fails the payload tag', () => {
  const { header, payload } = sealed(4096);
  payload[1234] ^= 1;
  assert.is(checkEnvelope(header, payload, testKeys(2), 0, HEADER_BYTES + payload.length), 'checksum');
});

test('another key\'s object fails the key check', () => {
  const { header, payload } = sealed(64, 1);
  assert.is(checkEnvelope(header, payload, testKeys(2), 0, HEADER_BYTES + payload.length), 'key');
});

test('a payload length other than the header\'s fails the length check', () => {
  const { header } = sealed(64);
  assert.is(checkEnvelope(header, new Uint8Array(63), testKeys(2), 0, HEADER_BYTES + 63), 'length');
});

test('a stored object shorter than header plus payload is truncated', () => {
  const { header, payload } = sealed(64);
  assert.is(checkEnvelope(header, payload, testKeys(2), 0, HEADER_BYTES + 10), 'truncated');
  assert.is(checkEnvelope(header, payload, testKeys(2), 0, 12), 'truncated');
});

test('a stored object longer than header plus payload fails the length check', () => {
  const { header, payload } = sealed(64);
  assert.is(checkEnvelope(header, payload, testKeys(2), 0, HEADER_BYTES + 65), 'length');
});

test('a damaged header fails the header checksum; a zeroed one fails the magic', () => {
  const { header, payload } = sealed(64);
  header[25] ^= 0x80;
  assert.is(checkEnvelope(header, payload, testKeys(2), 0, HEADER_BYTES + 64), 'header_checksum');
  assert.is(checkEnvelope(new Uint8Array(HEADER_BYTES), payload, testKeys(2), 0, HEADER_BYTES + 64), 'magic');
});

test('every header byte is checked: damage in either reserved range fails the header checksum', () => {
  for (const at of [32, 39, 60, 63]) {
    const { header, payload } = sealed(64);
    header[at] ^= 0x01;
    assert.is(checkEnvelope(header, payload, testKeys(2), 0, HEADER_BYTES + 64), 'header_checksum', `byte ${at}`);
  }
});

test('the tag reads a payload on a SharedArrayBuffer in place', () => {
  const payload = new Uint8Array(new SharedArrayBuffer(8192), 4096, 4096);
  fillPattern(payload, 9);
  const header = new Uint8Array(HEADER_BYTES);
  writeHeader(header, testKeys(1), 0, payload);
  assert.is(checkEnvelope(header, payload, testKeys(1), 0, HEADER_BYTES + 4096), null);
});

test('the same payload under another key gets another tag', () => {
  const payload = new Uint8Array(256);
  fillPattern(payload, 1);
  const a = new Uint8Array(HEADER_BYTES);
  const b = new Uint8Array(HEADER_BYTES);
  writeHeader(a, testKeys(2), 0, payload);
  writeHeader(b, testKeys(2), 1, payload);
  assert.not.equal(a.subarray(40, 56), b.subarray(40, 56));
});

test('every single-bit flip anywhere in a payload is caught', () => {
  const { header, payload } = sealed(64);
  for (let bit = 0; bit < 64 * 8; bit++) {
    payload[bit >>> 3] ^= 1 << (bit & 7);
    assert.is(checkEnvelope(header, payload, testKeys(2), 0, HEADER_BYTES + 64), 'checksum', `bit ${bit}`);
    payload[bit >>> 3] ^= 1 << (bit & 7);
  }
});

test.run();
