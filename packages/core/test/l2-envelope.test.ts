import { createCipheriv, createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ENVELOPE_MAGIC, ENVELOPE_VERSION, HEADER_BYTES, checkEnvelope, writeHeader } from '../src/l2/envelope.ts';
import { fillPattern, sealedAsVersion1, testKeys } from './l2-fixtures.ts';

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

test('the envelope is version 2, its tag Poly1305: the tag is ChaCha20-Poly1305 of no plaintext with the payload as AAD', () => {
  assert.is(ENVELOPE_VERSION, 2);
  const { header, payload } = sealed(1000);
  assert.is(new DataView(header.buffer).getUint16(4, true), 2);
  const key = createHash('sha256').update('kvtier envelope tag v2').digest();
  const nonce = new Uint8Array(new Uint32Array(testKeys(2).subarray(0, 3)).buffer);
  const poly = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  poly.setAAD(payload, { plaintextLength: 0 });
  poly.final();
  assert.equal(header.subarray(40, 56), new Uint8Array(poly.getAuthTag()));
});

test('an intact object of envelope version 1 (a GMAC tag) is a version miss, never read', () => {
  const payload = new Uint8Array(4096);
  fillPattern(payload, 5);
  const header = sealedAsVersion1(testKeys(1), 0, payload);
  assert.is(checkEnvelope(header, payload, testKeys(1), 0, HEADER_BYTES + payload.length), 'version');
});

test('a corrupted byte anywhere in an object, header or payload, makes it a miss', () => {
  const { header, payload } = sealed(256);
  const object = [header, payload];
  for (const part of object) {
    for (let at = 0; at < part.length; at++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        part[at] ^= flip;
        const fault = checkEnvelope(header, payload, testKeys(2), 0, HEADER_BYTES + payload.length);
        assert.ok(fault !== null, `${part === header ? 'header' : 'payload'} byte ${at} ^ ${flip} went unnoticed`);
        part[at] ^= flip;
      }
    }
  }
  assert.is(checkEnvelope(header, payload, testKeys(2), 0, HEADER_BYTES + payload.length), null);
});

test.run();
