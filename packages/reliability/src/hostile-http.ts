/**
 * Generated hostile HTTP/1.x input for the sidecar's port (fast-check): request lines with
 * methods known and unknown, request targets in RFC 9112's four forms (origin, absolute,
 * authority, asterisk) with odd percent-encodings and lengths up to 64 KiB, HTTP versions real and
 * not, header sets (Host missing or doubled, duplicates, oversized, malformed, conflicting
 * framing: Content-Length beside Transfer-Encoding, two Content-Lengths), bodies, line endings,
 * pipelined batches, plain garbage bytes, each delivered in one write or split across several.
 */
import fc from 'fast-check';

/** The request target forms of RFC 9112 §3.2, and the kinds of input beside them. */
export const TARGET_FORMS = [
  'origin',
  'network-path',
  'absolute',
  'authority',
  'asterisk',
  'long',
] as const;
export type TargetForm = (typeof TARGET_FORMS)[number];

/** The classes of header sets the generator makes (each request carries some of them). */
export const HEADER_CLASSES = [
  'host',
  'no-host',
  'duplicate-host',
  'framing',
  'request-headers',
  'malformed',
  'oversized',
  'many',
  'random',
] as const;

/** One generated request, and what it exercises (for the run's counts). */
export interface HostileRequest {
  text: string;
  form: TargetForm;
  /** The hostile header classes it carries. */
  headerClasses: string[];
}

/** One case: the bytes sent on one connection, how they are split, and what they exercise. */
export interface HostileCase {
  kind: 'pipelined' | 'garbage' | 'request-then-garbage';
  bytes: Buffer;
  /** Offsets where the bytes are cut into separate writes. */
  splits: number[];
  requests: HostileRequest[];
}

const percentEncoding = fc.oneof(
  fc.constantFrom('%', '%2', '%zz', '%ZZ', '%00', '%2f', '%2F', '%2e%2e', '%25', '%c3%28'),
  fc.constantFrom('%ff', '%e2%82', '%u0041', '%%', '%0a', '%0d%0a', '%3f', '%23', '%5c'),
  fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0')}`),
);
const pathPiece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a', 'Z', '0', '-', '.', '..', '_', '~', '/', '//') },
  { weight: 2, arbitrary: fc.constantFrom(':', '@', '!', '$', '&', "'", '(', ')', '*', '+') },
  { weight: 2, arbitrary: fc.constantFrom(',', ';', '=', '[', ']', '\\', '|', '^', '`', '{') },
  { weight: 3, arbitrary: percentEncoding },
);
const pathText = fc.array(pathPiece, { maxLength: 12 }).map((pieces) => pieces.join(''));
const ROUTES = ['/v1/backends', '/v1/backends/', '/v1/explain/', '/v1/events', '/healthz'];
const OTHER_PATHS = ['/readyz', '/metrics', '/v1', '/v2/things', '/', '/constructor'];
const queryValue = fc.oneof(
  fc.constantFrom('0', '1', '-1', '1e9', 'abc', '', '%zz', '99999999999999999999', '300'),
  pathText,
);
const query = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  {
    weight: 2,
    arbitrary: fc
      .array(
        fc.tuple(fc.constantFrom('watch', 'timeoutSeconds', 'x', '', '%', 'watch%00'), queryValue),
        { minLength: 1, maxLength: 3 },
      )
      .map((pairs) => `?${pairs.map(([key, value]) => `${key}=${value}`).join('&')}`),
  },
);
const originForm = fc
  .tuple(fc.constantFrom(...ROUTES, ...OTHER_PATHS), pathText, query)
  .map(([path, tail, q]) => `${path}${tail}${q}`);

const host = fc.oneof(
  fc.constantFrom('a', 'localhost', '127.0.0.1', '[::1]', '[::1', '[', '256.256.256.256'),
  fc.constantFrom('0x100000000', '1.2.3', 'xn--', 'a..b', '', '%zz', 'a%2f', 'a b', '\u00fc'),
  fc.stringMatching(/^[a-z0-9.-]{1,20}$/),
);
const port = fc.oneof(
  fc.constant(''),
  fc.constantFrom(':', ':b', ':99999', ':0', ':8080', ':-1', ':65536', '::'),
  fc.nat(70_000).map((n) => `:${n}`),
);
const authority = fc
  .tuple(fc.constantFrom('', '', '', 'u@', 'u:p@', '@', '%@'), host, port)
  .map(([user, name, p]) => `${user}${name}${p}`);
const networkPath = fc
  .tuple(authority, pathText, query)
  .map(([a, tail, q]) => `//${a}/${tail}${q}`);
const absoluteForm = fc
  .tuple(
    fc.constantFrom('http', 'https', 'HTTP', 'Https', 'ftp', 'ws', 'file', 'h', 'javascript'),
    authority,
    originForm,
  )
  .map(([scheme, a, path]) => `${scheme}://${a}${path}`);
const asteriskForm = fc.constantFrom('*', '**', '*/', '*?x', '*%00');
const longTarget = fc
  .tuple(
    fc.constantFrom('/', '//', '/v1/backends/', 'http://a/', '/v1/backends?watch='),
    fc.integer({ min: 8_000, max: 64 * 1024 }),
  )
  .map(([prefix, length]) => `${prefix}${'a'.repeat(length)}`);

const target: fc.Arbitrary<{ form: TargetForm; text: string }> = fc.oneof(
  { weight: 5, arbitrary: originForm.map((text) => ({ form: 'origin' as const, text })) },
  { weight: 4, arbitrary: networkPath.map((text) => ({ form: 'network-path' as const, text })) },
  { weight: 4, arbitrary: absoluteForm.map((text) => ({ form: 'absolute' as const, text })) },
  { weight: 2, arbitrary: authority.map((text) => ({ form: 'authority' as const, text })) },
  { weight: 1, arbitrary: asteriskForm.map((text) => ({ form: 'asterisk' as const, text })) },
  { weight: 1, arbitrary: longTarget.map((text) => ({ form: 'long' as const, text })) },
);

const method = fc.oneof(
  { weight: 8, arbitrary: fc.constant('GET') },
  {
    weight: 4,
    arbitrary: fc.constantFrom('HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT'),
  },
  { weight: 2, arbitrary: fc.constantFrom('TRACE', 'M-SEARCH', 'QUERY', 'PRI', 'PROPFIND') },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z!#$%&'*+.^_`|~-]{1,12}$/) },
  { weight: 1, arbitrary: fc.constantFrom('get', 'G ET', '', ' GET', 'GET\t', '\u00c9T') },
);
const version = fc.oneof(
  { weight: 10, arbitrary: fc.constant('HTTP/1.1') },
  { weight: 2, arbitrary: fc.constant('HTTP/1.0') },
  {
    weight: 3,
    arbitrary: fc.constantFrom('HTTP/0.9', 'HTTP/2.0', 'HTTP/3.0', 'HTTP/1.2', 'HTTP/9.9'),
  },
  { weight: 1, arbitrary: fc.constantFrom('http/1.1', '', 'HTTP/1.1 x', 'HTTP/1', 'HTTP/11') },
);

/** A header line and its class, for the counts. */
type Header = [cls: string, line: string];
const header = (cls: string, lines: string[]) =>
  fc.constantFrom(...lines).map((line): Header => [cls, line]);
const headerLine: fc.Arbitrary<Header> = fc.oneof(
  header('framing', [
    'Content-Length: 0',
    'Content-Length: 5',
    'Content-Length: -1',
    'Content-Length: 1e3',
    'Content-Length: 99999999999999999999',
    'Content-Length: 5, 5',
    'Transfer-Encoding: chunked',
    'Transfer-Encoding: gzip',
    'Transfer-Encoding: chunked, chunked',
    'Transfer-Encoding: identity',
  ]),
  header('request-headers', [
    'Authorization: Bearer x',
    'Authorization: Basic x',
    'Authorization:',
    'Last-Event-ID: 5',
    'Last-Event-ID: abc',
    'Last-Event-ID: -1',
    'If-None-Match: *',
    'If-None-Match: "1", W/"2"',
    'Accept-Encoding: gzip;q=abc, *',
    'Expect: 100-continue',
    'Expect: tea',
    'Connection: close',
    'Connection: upgrade',
    'Upgrade: websocket',
    'Upgrade: h2c',
  ]),
  header('malformed', [
    'Bad Name: 1',
    ': x',
    'X: a\u0000b',
    'X: a\u007f',
    ' folded: x',
    'NoColon',
    'X-\u00ff: 1',
    'X: \u00e9\u00e8',
    'X:\ty',
  ]),
  fc
    .integer({ min: 1_000, max: 70_000 })
    .map((n): Header => ['oversized', `X-Big: ${'b'.repeat(n)}`]),
  fc
    .tuple(fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/), fc.string({ maxLength: 40 }))
    .map(([name, value]): Header => ['random', `${name}: ${value}`]),
);
/** Mostly headers a router sees, so that hostile targets reach it; else hostile ones. */
const headerSet = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Header[]>([]) },
  {
    weight: 3,
    arbitrary: fc.array(
      headerLine.filter(([cls]) => cls === 'request-headers' || cls === 'random'),
      { maxLength: 4 },
    ),
  },
  { weight: 3, arbitrary: fc.array(headerLine, { minLength: 1, maxLength: 4 }) },
);
const hostHeaders = fc.oneof(
  { weight: 10, arbitrary: fc.constant<Header[]>([['host', 'Host: x']]) },
  { weight: 1, arbitrary: fc.constant<Header[]>([]) },
  {
    weight: 1,
    arbitrary: fc.constant<Header[]>([
      ['duplicate-host', 'Host: a'],
      ['duplicate-host', 'Host: b'],
    ]),
  },
  { weight: 1, arbitrary: fc.constant<Header[]>([['host', 'Host: a:b']]) },
);
const headerFlood = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Header[]>([]) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 100, max: 3_000 })
      .map((n): Header[] => Array.from({ length: n }, () => ['many', 'X-Many: 1'])),
  },
);
const body = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('abcde', '0\r\n\r\n', '5\r\nabcde\r\n0\r\n\r\n', 'zz\r\n', 'ab'),
  },
  { weight: 1, arbitrary: fc.constant(`1;${'x'.repeat(20_000)}\r\na\r\n0\r\n\r\n`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
);
const lineEnd = fc.oneof(
  { weight: 10, arbitrary: fc.constant('\r\n') },
  { weight: 1, arbitrary: fc.constantFrom('\n', '\r') },
);

/** A request whose only hostile part may be its target: it reaches the router. */
const routedRequest: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    fc.oneof(
      { weight: 4, arbitrary: fc.constant('GET') },
      { weight: 1, arbitrary: fc.constant('HEAD') },
    ),
    fc.oneof(
      { weight: 4, arbitrary: target },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom('/healthz', '/v1/backends', '/v1/backends/s1', '/v1/explain/s1', '/readyz')
          .map((text) => ({ form: 'origin' as const, text })),
      },
    ),
    fc.array(
      headerLine.filter(([cls]) => cls === 'request-headers' || cls === 'random'),
      { maxLength: 2 },
    ),
  )
  .map(([m, t, headers]) => ({
    text: [`${m} ${t.text} HTTP/1.1`, 'Host: x', ...headers.map(([, line]) => line), '', ''].join(
      '\r\n',
    ),
    form: t.form,
    headerClasses: ['host', ...new Set(headers.map(([cls]) => cls))],
  }));

/** A request with anything hostile in any part. */
const anyRequest: fc.Arbitrary<HostileRequest> = fc
  .record({
    method,
    target,
    version,
    hosts: hostHeaders,
    headers: headerSet,
    flood: headerFlood,
    body,
    end: lineEnd,
  })
  .map(({ method: m, target: t, version: v, hosts, headers, flood, body: b, end }) => {
    const all = [...hosts, ...headers, ...flood];
    const line = `${m} ${t.text}${v === '' ? '' : ` ${v}`}`;
    const lines = [line, ...all.map(([, text]) => text)];
    return {
      text: `${lines.join(end)}${end}${end}${b}`,
      form: t.form,
      headerClasses: [
        ...new Set([...all.map(([cls]) => cls), ...(hosts.length === 0 ? ['no-host'] : [])]),
      ],
    };
  });

const request = fc.oneof(
  { weight: 1, arbitrary: routedRequest },
  { weight: 1, arbitrary: anyRequest },
);

const garbage = fc
  .uint8Array({ minLength: 1, maxLength: 4_096 })
  .map((bytes) => Buffer.from(bytes));

/** What a case sends, split at up to three points. */
export const hostileCase: fc.Arbitrary<HostileCase> = fc
  .tuple(
    fc.oneof(
      {
        weight: 8,
        arbitrary: fc
          .array(request, { minLength: 1, maxLength: 4 })
          .map((requests) => ({ kind: 'pipelined' as const, requests, tail: Buffer.alloc(0) })),
      },
      {
        weight: 1,
        arbitrary: garbage.map((tail) => ({ kind: 'garbage' as const, requests: [], tail })),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(request, garbage).map(([one, tail]) => ({
          kind: 'request-then-garbage' as const,
          requests: [one],
          tail,
        })),
      },
    ),
    fc.oneof(
      { weight: 2, arbitrary: fc.constant<number[]>([]) },
      {
        weight: 1,
        arbitrary: fc.array(
          fc.integer({ min: 1, max: 999 }).map((n) => n / 1000),
          { minLength: 1, maxLength: 3 },
        ),
      },
    ),
  )
  .map(([{ kind, requests, tail }, cuts]) => {
    const bytes = Buffer.concat([...requests.map((r) => Buffer.from(r.text, 'latin1')), tail]);
    const splits = [...new Set(cuts.map((cut) => Math.floor(cut * bytes.length)))]
      .filter((at) => at > 0 && at < bytes.length)
      .sort((a, b) => a - b);
    return { kind, bytes, splits, requests };
  });
