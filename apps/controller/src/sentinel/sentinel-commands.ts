import { R, type Reply } from '../../../../libs/resp/src/index.js';

/** The commands the Sentinel-compatible endpoint serves, as `COMMAND` describes them, and their fixed replies. */

export const SENTINEL_HELP = [
  'SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CKQUORUM <master-name>',
  '    Check if the current Sentinel configuration is able to reach the quorum needed to failover a master and the majority needed to authorize the failover.',
  'GET-MASTER-ADDR-BY-NAME <master-name>',
  '    Return the ip and port number of the master with that name.',
  'FAILOVER <master-name>',
  '    Manually failover a master node without asking for agreement from other Sentinels',
  'MASTER <master-name>',
  '    Show the state and info of the specified master.',
  'MASTERS',
  '    Show a list of monitored masters and their state.',
  'MYID',
  '    Return the ID of the Sentinel instance.',
  'REPLICAS <master-name>',
  '    Show a list of replicas for this master and their state.',
  'SENTINELS <master-name>',
  '    Show a list of Sentinel instances for this master and their state.',
  'HELP',
  '    Print this help.',
];

const COMMANDS: [name: string, arity: number, flags: string[]][] = [
  ['auth', -2, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy']],
  ['client', -2, []],
  ['command', -1, ['loading', 'stale']],
  ['hello', -1, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy']],
  ['info', -1, ['loading', 'stale']],
  ['ping', -1, ['fast']],
  ['psubscribe', -2, ['pubsub', 'noscript', 'loading', 'stale']],
  ['punsubscribe', -1, ['pubsub', 'noscript', 'loading', 'stale']],
  ['quit', -1, ['allow_busy', 'noscript', 'loading', 'stale', 'fast', 'no_auth']],
  ['reset', 1, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy']],
  ['role', 1, ['noscript', 'loading', 'stale', 'fast']],
  ['sentinel', -2, ['admin', 'loading', 'stale']],
  ['subscribe', -2, ['pubsub', 'noscript', 'loading', 'stale']],
  ['unsubscribe', -1, ['pubsub', 'noscript', 'loading', 'stale']],
];

export function arityError(name: string): Reply {
  return R.error(`ERR wrong number of arguments for '${name}' command`);
}

export function noSuchMaster(): Reply {
  return R.error('ERR No such master with that name');
}

/** `COMMAND [COUNT|INFO|DOCS|LIST]` over the commands this endpoint serves. */
export function command(args: string[]): Reply {
  const sub = args[1]?.toLowerCase();
  const describe = (c: (typeof COMMANDS)[number]): Reply =>
    R.array([
      R.bulk(c[0]),
      R.int(c[1]),
      R.array(c[2].map((f) => R.simple(f))),
      R.int(0),
      R.int(0),
      R.int(0),
      R.array([]),
      R.array([]),
      R.array([]),
      R.array([]),
    ]);
  if (sub === undefined) return R.array(COMMANDS.map(describe));
  if (sub === 'count') return R.int(COMMANDS.length);
  if (sub === 'info') {
    return R.array(
      args.slice(2).map((n) => {
        const c = COMMANDS.find((x) => x[0] === n.toLowerCase());
        return c ? describe(c) : R.nullArray;
      }),
    );
  }
  if (sub === 'docs') return { t: 'map', v: [] };
  if (sub === 'list') return R.bulks(COMMANDS.map((c) => c[0]));
  return R.error(`ERR unknown subcommand '${args[1]}'. Try COMMAND HELP.`);
}
