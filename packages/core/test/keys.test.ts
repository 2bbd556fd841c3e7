import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { ErrorCode } from '../src/errors.ts';
import {
  CHUNK_HASH_SEED, chunkHashes, digestBatch, digestKey, objectKeys,
  validateModelName, validateSalt, type ObjectKey,
} from '../src/keys.ts';
import { assertDigestBatch, digestHex } from '../src/digest-batch.ts';
import { throwsCode } from './l1-helpers.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const key = (over: Partial<ObjectKey> = {}): ObjectKey => ({ model: 'llama-3-8b', kvRank: 0, chunkHash: new Uint8Array(32).fill(7), ...over });

test('the seed is SHA-256 of "kvtier chunk hash v1"', () => {
  assert.is(hex(CHUNK_HASH_SEED), createHash('sha256').update('kvtier chunk hash v1').digest('hex'));
});

test('chunkHashes matches the documented rolling hash (values computed independently)', () => {
  const hs = chunkHashes([1, 2, 3, 4, 5, 0xffffffff], { chunkSize: 4, includePartial: true });
  assert.is(hs.length, 2);
  assert.is(hex(hs[0]), '88cd9c07f1315e52fc08d4d42b0a82796f1748042f8bb168dac69e32a3884197');
  assert.is(hex(hs[1]), '4e5472a23c1d87323a59f776b9cd6efa862b2c7f3fb83755d1b638240bba9ac1');
});

test('only complete chunks unless includePartial', () => {
  assert.is(chunkHashes(new Uint32Array(600)).length, 2);
  assert.is(chunkHashes(new Uint32Array(600), { includePartial: true }).length, 3);
  assert.is(chunkHashes(new Uint32Array(512), { includePartial: true }).length, 2);
  assert.is(chunkHashes([]).length, 0);
});

test('Uint32Array, Int32Array and number[] of the same tokens hash alike', () => {
  const tokens = [0, 1, 70000, 0x7fffffff, 5, 6, 7, 8];
  const a = chunkHashes(tokens, { chunkSize: 4 }).map(hex);
  assert.equal(chunkHashes(Uint32Array.from(tokens), { chunkSize: 4 }).map(hex), a);
  assert.equal(chunkHashes(Int32Array.from(tokens), { chunkSize: 4 }).map(hex), a);
  // A subarray at an offset hashes its own tokens, not the start of the buffer.
  const big = Uint32Array.from([9, 9, ...tokens]);
  assert.equal(chunkHashes(big.subarray(2), { chunkSize: 4 }).map(hex), a);
});

test('a chunk hash names its prefix: same chunk after a different prefix hashes differently', () => {
  const a = chunkHashes([1, 1, 2, 2], { chunkSize: 2 });
  const b = chunkHashes([3, 3, 2, 2], { chunkSize: 2 });
  assert.is.not(hex(a[1]), hex(b[1]));
  assert.is(hex(a[0]), hex(chunkHashes([1, 1], { chunkSize: 2 })[0]));
});

test('bad tokens or chunk size -> INVALID_ARGUMENT naming them', () => {
  throwsCode(() => chunkHashes([1, 2.5], { chunkSize: 2 }), ErrorCode.INVALID_ARGUMENT, /tokens\[1\] must be a 32-bit integer/);
  throwsCode(() => chunkHashes([1, 2], { chunkSize: 0 }), ErrorCode.INVALID_ARGUMENT, /chunkSize must be a positive integer/);
});

test('validateModelName rejects empty, long, separators, NUL and dot segments', () => {
  validateModelName('meta-llama_3.1:8b');
  throwsCode(() => validateModelName(''), ErrorCode.INVALID_KEY, /^model: must not be empty/);
  throwsCode(() => validateModelName('x'.repeat(257)), ErrorCode.INVALID_KEY, /model: is 257 bytes long, the limit is 256/);
  throwsCode(() => validateModelName('é'.repeat(129)), ErrorCode.INVALID_KEY, /model: is 258 bytes/);
  throwsCode(() => validateModelName('a/b'), ErrorCode.INVALID_KEY, /model: must not contain '\/'/);
  throwsCode(() => validateModelName('a\\b'), ErrorCode.INVALID_KEY, /model: must not contain '\\'/);
  throwsCode(() => validateModelName('a\0b'), ErrorCode.INVALID_KEY, /model: must not contain NUL/);
  throwsCode(() => validateModelName('..'), ErrorCode.INVALID_KEY, /model: must not be a '\.\.' path segment/);
  throwsCode(() => validateModelName(42), ErrorCode.INVALID_KEY, /model: must be a string, got number/);
});

test('validateSalt allows empty but applies the same rules', () => {
  validateSalt('');
  validateSalt('tenant-7');
  throwsCode(() => validateSalt('../x'), ErrorCode.INVALID_KEY, /^cacheSalt: must not contain '\/'/);
  throwsCode(() => validateSalt('.'), ErrorCode.INVALID_KEY, /cacheSalt: must not be a '\.' path segment/);
});

test('names and salts must be well-formed Unicode: lone surrogates are refused, U+FFFD and pairs are not', () => {
  for (const bad of ['tenant-\uD800', 'tenant-\uDBFF', '\uDC00x', 'a\uD800b']) {
    throwsCode(() => validateSalt(bad), ErrorCode.INVALID_KEY, /^cacheSalt: must be well-formed Unicode/);
    throwsCode(() => validateModelName(bad), ErrorCode.INVALID_KEY, /^model: must be well-formed Unicode/);
  }
  validateSalt('tenant-\uFFFD');
  validateSalt('tenant-\uD83D\uDE00');
  validateModelName('m\uD83D\uDE00');
});

test('distinct accepted salts and model names never share a digest', () => {
  // Strings over an alphabet that UTF-8 could confuse: U+FFFD, both halves of a surrogate pair
  // alone and together, multi-byte and ASCII characters. Every string the validators accept must
  // get its own digest.
  const alphabet = ['a', 'é', '\uFFFD', '\uD800', '\uDBFF', '\uDC00', '\uD83D\uDE00', '-'];
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const saltDigests = new Map<string, string>();
  const modelDigests = new Map<string, string>();
  let accepted = 0;
  for (let i = 0; i < 3000; i++) {
    let s = 'x';
    for (let n = next() % 5; n >= 0; n--) s += alphabet[next() % alphabet.length];
    const salted = (() => { try { return hex(digestKey(key({ cacheSalt: s }))); } catch { return undefined; } })();
    if (salted !== undefined) {
      accepted++;
      const other = saltDigests.get(salted);
      assert.ok(other === undefined || other === s, `salts ${JSON.stringify(other)} and ${JSON.stringify(s)} share a digest`);
      saltDigests.set(salted, s);
    }
    const named = (() => { try { return hex(digestKey(key({ model: s }))); } catch { return undefined; } })();
    if (named !== undefined) {
      const other = modelDigests.get(named);
      assert.ok(other === undefined || other === s, `models ${JSON.stringify(other)} and ${JSON.stringify(s)} share a digest`);
      modelDigests.set(named, s);
    }
  }
  assert.ok(accepted > 100, `enough accepted strings to mean something: ${accepted}`);
});

test('digestKey is 16 bytes, deterministic, and differs in every field', () => {
  const base = digestKey(key());
  assert.is(base.length, 16);
  assert.is(hex(digestKey(key())), hex(base));
  const variants = [
    key({ model: 'llama-3-8c' }),
    key({ kvRank: 1 }),
    key({ cacheSalt: 't1' }),
    key({ chunkHash: new Uint8Array(32).fill(8) }),
  ];
  const all = new Set([hex(base), ...variants.map((k) => hex(digestKey(k)))]);
  assert.is(all.size, 5);
  assert.is(hex(digestKey(key({ cacheSalt: '' }))), hex(base), 'empty salt = no salt');
});

test('digestKey length-prefixes names: moving bytes between model and salt changes the digest', () => {
  const a = digestKey(key({ model: 'ab', cacheSalt: 'c' }));
  const b = digestKey(key({ model: 'a', cacheSalt: 'bc' }));
  assert.is.not(hex(a), hex(b));
});

test('digestKey rejects bad keys naming the field', () => {
  throwsCode(() => digestKey(key({ kvRank: -1 })), ErrorCode.INVALID_KEY, /^kvRank: must be an integer/);
  throwsCode(() => digestKey(key({ chunkHash: new Uint8Array(31) })), ErrorCode.INVALID_KEY, /^chunkHash: must be a Uint8Array of 32 bytes/);
  throwsCode(() => digestKey(key({ model: 'x/y' })), ErrorCode.INVALID_KEY, /^model:/);
  throwsCode(() => digestKey(key({ cacheSalt: 'a\\b' })), ErrorCode.INVALID_KEY, /^cacheSalt:/);
});

test('digestBatch packs 4 little-endian words per key in input order; digestHex reads them back', () => {
  const keys = [key(), key({ kvRank: 3 })];
  const batch = digestBatch(keys);
  assert.instance(batch, Uint32Array);
  assert.is(batch.length, 8);
  const d1 = digestKey(keys[1]);
  assert.is(batch[4], (d1[0] | (d1[1] << 8) | (d1[2] << 16) | (d1[3] << 24)) >>> 0);
  assert.is(digestHex(batch, 0), hex(digestKey(keys[0])));
  assert.is(digestHex(batch, 1), hex(d1));
  assert.equal(digestBatch([digestKey(keys[0]), d1]), batch, 'digests and keys give the same batch');
});

test('digestBatch and digestHex reject malformed input', () => {
  throwsCode(() => digestBatch([new Uint8Array(15)]), ErrorCode.INVALID_ARGUMENT, /keys\[0\] is a Uint8Array of 15 bytes; a digest has 16/);
  throwsCode(() => digestHex(new Uint32Array(5), 0), ErrorCode.INVALID_ARGUMENT, /5 words, not a multiple of 4/);
  throwsCode(() => digestHex(new Uint32Array(4), 1), ErrorCode.INVALID_ARGUMENT, /index 1 is outside the batch of 1 keys/);
  throwsCode(() => assertDigestBatch([1, 2, 3, 4]), ErrorCode.INVALID_ARGUMENT, /keys must be a DigestBatch/);
});

test('objectKeys gives one key per chunk, carrying model, rank and salt', () => {
  const keys = objectKeys('m', 2, new Uint32Array(10), { chunkSize: 4, includePartial: true, cacheSalt: 's' });
  assert.is(keys.length, 3);
  assert.is(keys[2].model, 'm');
  assert.is(keys[2].kvRank, 2);
  assert.is(keys[2].cacheSalt, 's');
  assert.is(hex(keys[1].chunkHash), hex(chunkHashes(new Uint32Array(10), { chunkSize: 4 })[1]));
  assert.not.ok('cacheSalt' in objectKeys('m', 0, new Uint32Array(4), { chunkSize: 4 })[0]);
  throwsCode(() => objectKeys('', 0, []), ErrorCode.INVALID_KEY, /^model: must not be empty/);
});

test.run();
