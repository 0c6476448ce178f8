import t from 'tap';
import { fnv1a64 } from '../../src/compile/hash.js';

t.test('FNV-1a 64 matches the reference vectors', async (t) => {
  t.equal(fnv1a64(''), 'cbf29ce484222325');
  t.equal(fnv1a64('a'), 'af63dc4c8601ec8c');
  t.equal(fnv1a64('foobar'), '85944171f73967e8');
});

t.test('non-ASCII text is hashed as UTF-8', async (t) => {
  t.not(fnv1a64('é'), fnv1a64('e'));
  t.equal(fnv1a64('😀').length, 16);
});
