import { describe, expect, it } from 'vitest';
import { InitialSync, type InitialSyncState } from '../src/initial-sync.js';

type Input = ['listed', string[]] | ['decided', string] | ['expired'];

function run(inputs: Input[]): InitialSync {
  const sync = new InitialSync();
  for (const input of inputs) {
    if (input[0] === 'listed') sync.listed(input[1]);
    else if (input[0] === 'decided') sync.decided(input[1]);
    else sync.expired();
  }
  return sync;
}

describe('InitialSync', () => {
  const table: [string, Input[], InitialSyncState, string[]][] = [
    ['nothing known before the lists', [], 'listing', []],
    ['decisions before the lists are remembered', [['decided', 'a']], 'listing', []],
    ['empty initial lists: ready at once', [['listed', []]], 'ready', []],
    ['names listed: each pending', [['listed', ['b', 'a']]], 'deciding', ['a', 'b']],
    [
      'a name decided before the lists were known is not pending',
      [
        ['decided', 'a'],
        ['listed', ['a', 'b']],
      ],
      'deciding',
      ['b'],
    ],
    [
      'every name decided before the lists: ready at once',
      [
        ['decided', 'a'],
        ['listed', ['a']],
      ],
      'ready',
      [],
    ],
    [
      'the last name decided: ready',
      [
        ['listed', ['a', 'b']],
        ['decided', 'b'],
        ['decided', 'a'],
      ],
      'ready',
      [],
    ],
    [
      'a name not in the lists changes nothing',
      [
        ['listed', ['a']],
        ['decided', 'x'],
      ],
      'deciding',
      ['a'],
    ],
    [
      'the bound passed: ready, with what is still pending',
      [['listed', ['a', 'b']], ['decided', 'a'], ['expired']],
      'expired',
      ['b'],
    ],
    [
      'after the bound, the rest decided: ready, nothing pending',
      [['listed', ['a', 'b']], ['expired'], ['decided', 'a'], ['decided', 'b']],
      'ready',
      [],
    ],
    [
      'the bound before the lists changes nothing',
      [['expired'], ['listed', ['a']]],
      'deciding',
      ['a'],
    ],
    [
      'only the first lists count',
      [
        ['listed', ['a']],
        ['listed', ['a', 'b']],
      ],
      'deciding',
      ['a'],
    ],
    ['ready stays ready', [['listed', []], ['listed', ['a']], ['expired']], 'ready', []],
  ];
  it.each(table)('%s', (_label, inputs, state, pending) => {
    const sync = run(inputs);
    expect(sync.state).toBe(state);
    expect(sync.ready).toBe(state === 'ready' || state === 'expired');
    expect(sync.pending()).toEqual(pending);
  });
});

it('says which decision completed the initial sync', () => {
  const sync = new InitialSync();
  sync.listed(['a', 'b']);
  expect([sync.decided('a'), sync.decided('x'), sync.decided('b'), sync.decided('b')]).toEqual([
    false,
    false,
    true,
    false,
  ]);
});
