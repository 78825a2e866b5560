import { describe, expect, it } from 'vitest';
import { repeatedKeys } from './support/json-keys.js';

describe('repeatedKeys', () => {
  it.each([
    ['{"a":1,"b":2}', []],
    ['{"a":1,"a":2}', ['a']],
    ['{"name":"x","group":"g","group":"g","name":"y"}', ['group', 'name']],
    ['{"a":{"b":1,"b":2},"c":[{"d":1,"d":1}]}', ['b', 'd']],
    ['{"a":{"b":1},"b":{"a":1}}', []],
    ['{"a":"a\\",\\"a\\":","b":["a","a"]}', []],
    ['{"a\\u0062":1,"ab":2}', ['ab']],
    ['[1,{"x":1},{"x":2}]', []],
    ['{}', []],
  ])('finds in %s the repeated keys %j', (json, keys) => {
    expect(repeatedKeys(json)).toEqual(keys);
  });

  it('refuses what is not JSON', () => {
    expect(() => repeatedKeys('{"a":1')).toThrow(SyntaxError);
  });
});
