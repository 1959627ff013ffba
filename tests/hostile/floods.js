// Hostile-input corpus, data only: the address sets and request patterns of floods the limits must
// hold against (tests/integration/limits.test.js runs them). Each class is a way to look like many
// clients, or to reset a limit, without being many clients.
//
// `addresses(n)` gives the CF-Connecting-IP values the attacker rotates through (under workerd a
// client-sent value passes through; on the edge it is the real address); `limit` names the tier
// that must stop it: `address` (an IPv4 address, an IPv6 /64) or `network` (an IPv4 /24, an IPv6 /48).

const hex = (n) => n.toString(16);

export const ADDRESS_FLOODS = [
  { name: 'one IPv4 address', limit: 'address', addresses: (n) => Array.from({ length: n }, () => '198.18.7.9') },
  { name: 'every address of one IPv6 /64 (rotating the interface id)', limit: 'address',
    addresses: (n) => Array.from({ length: n }, (_, i) => `2001:db8:77:1:${hex(i + 1)}:${hex(i * 7 + 3)}::${hex(i + 9)}`) },
  { name: 'the same /64 written differently (capitals, leading zeros, a dotted tail)', limit: 'address',
    addresses: (n) => Array.from({ length: n }, (_, i) => [`2001:DB8:79:2::${hex(i + 1)}`, `2001:0db8:0079:0002:0:0:0:${hex(i + 1)}`,
      `2001:db8:79:2::198.18.0.${(i % 250) + 1}`][i % 3]) },
  { name: 'many /64s of one IPv6 /48', limit: 'network',
    addresses: (n) => Array.from({ length: n }, (_, i) => `2001:db8:78:${hex(i + 1)}::1`) },
  { name: 'every address of one IPv4 /24', limit: 'network',
    addresses: (n) => Array.from({ length: n }, (_, i) => `198.18.9.${(i % 254) + 1}`) },
  { name: 'IPv4-mapped IPv6 spellings of one /24', limit: 'network',
    addresses: (n) => Array.from({ length: n }, (_, i) => `::ffff:198.18.10.${(i % 254) + 1}`) },
];

// Ways to reset a per-visitor limit without being a new visitor: each is one token's messages.
export const RESETS = [
  { name: 'reconnect after every burst (resuming with since/epoch)', sockets: 1, rounds: 6 },
  { name: 'several tabs sending at once', sockets: 4, rounds: 1 },
];
