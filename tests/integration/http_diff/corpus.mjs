// corpus.mjs -- odd and hostile raw HTTP/1.1 requests for the differential
// test (diff.test.mjs) of Kiln's parser against Node's (llhttp).
//
// Every request targets /api/echo. Each entry:
//   name     short unique id
//   raw      the bytes, as a latin1 string ('\x00'..'\xff' are bytes)
//   why      what it probes
//   control  true: a valid request that BOTH servers must accept (checks the
//            harness and that Kiln is not simply rejecting everything)
//   method   'HEAD' when the (first) response has no body
//   tolerate a reason why Kiln may ACCEPT although llhttp rejects: only for
//            llhttp limits that are not HTTP rules (RFC 9110/9112 allow it)
//
// Strings are built with \r\n written out, so every byte is visible here.

const H = 'Host: localhost\r\n';
const T = '/api/echo';

// A request: request line, header lines (each without CRLF), body.
function req(line, headers = [], body = '') {
  return `${line}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${body}`;
}
const get = (headers = [], line = `GET ${T} HTTP/1.1`) => req(line, ['Host: localhost', ...headers]);
const post = (headers, body, line = `POST ${T} HTTP/1.1`) => req(line, ['Host: localhost', ...headers], body);

export const corpus = [
  // ---- controls: valid, both must accept -----------------------------------
  { name: 'ctl-get', control: true, why: 'plain GET', raw: get() },
  { name: 'ctl-post-cl', control: true, why: 'POST with Content-Length', raw: post(['Content-Length: 5'], 'hello') },
  {
    name: 'ctl-post-chunked',
    control: true,
    why: 'POST chunked',
    raw: post(['Transfer-Encoding: chunked'], '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'),
  },
  { name: 'ctl-http10', control: true, why: 'HTTP/1.0 without Host', raw: req(`GET ${T} HTTP/1.0`) },
  { name: 'ctl-query', control: true, why: 'query string', raw: get([], `GET ${T}?a=1&b=%20x HTTP/1.1`) },
  { name: 'ctl-ows', control: true, why: 'tabs and spaces around a value', raw: get(['X-A:\t value \t']) },
  { name: 'ctl-empty-value', control: true, why: 'header with an empty value', raw: get(['X-Empty:']) },
  {
    name: 'ctl-chunk-ext',
    control: true,
    why: 'chunk extensions are legal',
    raw: post(['Transfer-Encoding: chunked'], '5;name=value\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'ctl-trailer',
    control: true,
    why: 'trailer field after the last chunk',
    raw: post(['Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n'),
  },
  {
    name: 'ctl-chunk-upper-hex',
    control: true,
    why: 'upper-case hex chunk size',
    raw: post(['Transfer-Encoding: chunked'], 'A\r\n0123456789\r\n0\r\n\r\n'),
  },
  { name: 'ctl-cl-zero', control: true, why: 'POST with Content-Length: 0', raw: post(['Content-Length: 0'], '') },
  { name: 'ctl-close', control: true, why: 'Connection: close', raw: get(['Connection: close']) },
  { name: 'ctl-head', control: true, method: 'HEAD', why: 'HEAD', raw: get([], `HEAD ${T} HTTP/1.1`) },
  { name: 'ctl-pipelined', control: true, why: 'two pipelined GETs', raw: get() + get() },
  { name: 'ctl-host-port', control: true, why: 'Host with a port', raw: req(`GET ${T} HTTP/1.1`, ['Host: localhost:8080']) },
  {
    name: 'ctl-lower-names',
    control: true,
    why: 'lower-case field names',
    raw: req(`POST ${T} HTTP/1.1`, ['host: localhost', 'content-length: 2'], 'ok'),
  },
  { name: 'ctl-delete', control: true, why: 'DELETE', raw: get([], `DELETE ${T} HTTP/1.1`) },

  // ---- Content-Length + Transfer-Encoding ----------------------------------
  { name: 'cl-te', why: 'CL and TE: chunked', raw: post(['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n') },
  { name: 'te-cl', why: 'TE: chunked then CL', raw: post(['Transfer-Encoding: chunked', 'Content-Length: 5'], '0\r\n\r\n') },
  {
    name: 'cl-te-smuggle',
    why: 'classic CL.TE smuggling',
    raw: post(['Content-Length: 13', 'Transfer-Encoding: chunked'], `0\r\n\r\nGET ${T} HTTP/1.1\r\n${H}\r\n`),
  },
  {
    name: 'te-cl-http10',
    why: 'CL and TE on HTTP/1.0',
    raw: req(`POST ${T} HTTP/1.0`, ['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n'),
  },
  {
    name: 'cl-te-obfuscated',
    why: 'CL and a second, odd TE field',
    raw: post(['Content-Length: 5', 'Transfer-Encoding: chunked', 'Transfer-encoding: x'], '0\r\n\r\n'),
  },

  // ---- Content-Length values -------------------------------------------------
  { name: 'cl-dup-same', why: 'two equal Content-Length fields', raw: post(['Content-Length: 5', 'Content-Length: 5'], 'hello') },
  { name: 'cl-dup-diff', why: 'two different Content-Length fields', raw: post(['Content-Length: 5', 'Content-Length: 6'], 'hello!') },
  { name: 'cl-list', why: 'Content-Length: 5, 5', raw: post(['Content-Length: 5, 5'], 'hello') },
  { name: 'cl-list-diff', why: 'Content-Length: 5, 6', raw: post(['Content-Length: 5, 6'], 'hello!') },
  { name: 'cl-plus', why: 'Content-Length: +5', raw: post(['Content-Length: +5'], 'hello') },
  { name: 'cl-minus', why: 'Content-Length: -5', raw: post(['Content-Length: -5'], 'hello') },
  { name: 'cl-inner-space', why: 'Content-Length: 1 0', raw: post(['Content-Length: 1 0'], '0123456789') },
  { name: 'cl-hex', why: 'Content-Length: 0x5', raw: post(['Content-Length: 0x5'], 'hello') },
  { name: 'cl-junk', why: 'Content-Length: 5abc', raw: post(['Content-Length: 5abc'], 'hello') },
  { name: 'cl-empty', why: 'empty Content-Length', raw: post(['Content-Length:'], '') },
  { name: 'cl-overflow', why: 'Content-Length past 2^64', raw: post(['Content-Length: 99999999999999999999999'], 'x') },
  { name: 'cl-comma', why: 'Content-Length: 5,', raw: post(['Content-Length: 5,'], 'hello') },
  { name: 'cl-decimal', why: 'Content-Length: 5.0', raw: post(['Content-Length: 5.0'], 'hello') },
  { name: 'cl-space-colon', why: 'Content-Length : 5 (space before colon)', raw: post(['Content-Length : 5'], 'hello') },

  // ---- Transfer-Encoding variants ------------------------------------------
  {
    name: 'te-chunked-twice',
    why: 'chunked, chunked',
    raw: post(['Transfer-Encoding: chunked, chunked'], '5\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'te-two-fields',
    why: 'two Transfer-Encoding: chunked fields',
    raw: post(['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'te-chunked-identity',
    why: 'chunked, identity (chunked not last)',
    raw: post(['Transfer-Encoding: chunked, identity'], '5\r\nhello\r\n0\r\n\r\n'),
  },
  { name: 'te-identity', why: 'TE: identity alone', raw: post(['Transfer-Encoding: identity'], 'hello') },
  { name: 'te-xchunked', why: 'TE: xchunked', raw: post(['Transfer-Encoding: xchunked'], '5\r\nhello\r\n0\r\n\r\n') },
  { name: 'te-upper', why: 'TE: Chunked (case)', raw: post(['Transfer-Encoding: Chunked'], '5\r\nhello\r\n0\r\n\r\n') },
  {
    name: 'te-lead-space',
    why: 'TE value with extra leading space',
    raw: post(['Transfer-Encoding:   chunked'], '5\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'te-space-colon',
    why: 'Transfer-Encoding : chunked',
    raw: post(['Transfer-Encoding : chunked'], '5\r\nhello\r\n0\r\n\r\n'),
  },
  { name: 'te-gzip-chunked', why: 'gzip, chunked (unsupported coding)', raw: post(['Transfer-Encoding: gzip, chunked'], '0\r\n\r\n') },
  { name: 'te-empty', why: 'empty Transfer-Encoding', raw: post(['Transfer-Encoding:'], '') },
  { name: 'te-trailing-comma', why: 'chunked,', raw: post(['Transfer-Encoding: chunked,'], '0\r\n\r\n') },
  { name: 'te-quoted', why: '"chunked"', raw: post(['Transfer-Encoding: "chunked"'], '0\r\n\r\n') },
  { name: 'te-vtab', why: 'chunked followed by a vertical tab', raw: post(['Transfer-Encoding: chunked\x0b'], '0\r\n\r\n') },
  {
    name: 'te-http10',
    why: 'TE: chunked on HTTP/1.0',
    raw: req(`POST ${T} HTTP/1.0`, ['Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'te-obs-fold',
    why: 'TE value on a folded line',
    raw: post(['Transfer-Encoding:', ' chunked'], '5\r\nhello\r\n0\r\n\r\n'),
  },

  // ---- chunk framing ---------------------------------------------------------
  {
    name: 'chunk-hex-overflow',
    why: 'chunk size past 2^64',
    raw: post(['Transfer-Encoding: chunked'], 'FFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n'),
  },
  { name: 'chunk-negative', why: 'chunk size -5', raw: post(['Transfer-Encoding: chunked'], '-5\r\nhello\r\n0\r\n\r\n') },
  { name: 'chunk-0x', why: 'chunk size 0x5', raw: post(['Transfer-Encoding: chunked'], '0x5\r\nhello\r\n0\r\n\r\n') },
  {
    name: 'chunk-no-crlf',
    why: 'chunk data not followed by CRLF',
    raw: post(['Transfer-Encoding: chunked'], '5\r\nhelloXX0\r\n\r\n'),
  },
  {
    name: 'chunk-too-long',
    why: 'chunk longer than its size',
    raw: post(['Transfer-Encoding: chunked'], '3\r\nhello\r\n0\r\n\r\n'),
  },
  { name: 'chunk-empty-size', why: 'empty chunk-size line', raw: post(['Transfer-Encoding: chunked'], '\r\nhello\r\n0\r\n\r\n') },
  { name: 'chunk-plus', why: 'chunk size +5', raw: post(['Transfer-Encoding: chunked'], '+5\r\nhello\r\n0\r\n\r\n') },
  { name: 'chunk-space', why: 'chunk size "5 " (trailing space)', raw: post(['Transfer-Encoding: chunked'], '5 \r\nhello\r\n0\r\n\r\n') },
  { name: 'chunk-bare-lf', why: 'chunk-size line ended by LF', raw: post(['Transfer-Encoding: chunked'], '5\nhello\r\n0\r\n\r\n') },
  {
    name: 'chunk-data-bare-lf',
    why: 'chunk data ended by LF',
    raw: post(['Transfer-Encoding: chunked'], '5\r\nhello\n0\r\n\r\n'),
  },
  {
    name: 'chunk-ext-bad-quote',
    why: 'chunk extension with an unterminated quoted string',
    raw: post(['Transfer-Encoding: chunked'], '5;a="b\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'chunk-ext-ctl',
    why: 'chunk extension with a control byte',
    raw: post(['Transfer-Encoding: chunked'], '5;a\x01b\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'chunk-trailer-cl',
    why: 'Content-Length in the trailer',
    raw: post(['Transfer-Encoding: chunked'], `5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n`),
  },
  {
    name: 'chunk-trailer-te',
    why: 'Transfer-Encoding in the trailer',
    raw: post(['Transfer-Encoding: chunked'], `5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n`),
  },
  {
    name: 'chunk-trailer-bad',
    why: 'trailer line without a colon',
    raw: post(['Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\nnocolon\r\n\r\n'),
  },

  // ---- line endings, folding, bytes -------------------------------------------
  { name: 'obs-fold', why: 'obs-fold in a value', raw: get(['X-A: a', ' b']) },
  { name: 'obs-fold-first', why: 'first header line starts with a space', raw: `GET ${T} HTTP/1.1\r\n X-A: a\r\n${H}\r\n` },
  { name: 'bare-lf-all', why: 'every line ended by LF only', raw: `GET ${T} HTTP/1.1\nHost: localhost\n\n` },
  { name: 'bare-lf-header', why: 'one header line ended by LF', raw: `GET ${T} HTTP/1.1\r\nX-A: a\n${H}\r\n` },
  { name: 'bare-lf-end', why: 'head ended by LF LF', raw: `GET ${T} HTTP/1.1\r\n${H}\n` },
  { name: 'bare-cr-value', why: 'bare CR inside a value', raw: get(['X-A: a\rb']) },
  { name: 'bare-cr-line', why: 'header line ended by CR only', raw: `GET ${T} HTTP/1.1\r\nX-A: a\r${H}\r\n` },
  { name: 'nul-value', why: 'NUL in a value', raw: get(['X-A: a\x00b']) },
  { name: 'nul-name', why: 'NUL in a name', raw: get(['X-\x00A: a']) },
  { name: 'ctl-in-value', why: '\\x01 in a value', raw: get(['X-A: a\x01b']) },
  { name: 'del-in-value', why: 'DEL in a value', raw: get(['X-A: a\x7fb']) },
  { name: 'space-before-colon', why: 'Host : localhost', raw: req(`GET ${T} HTTP/1.1`, ['Host : localhost']) },
  { name: 'tab-before-colon', why: 'X-A\\t: a', raw: get(['X-A\t: a']) },
  { name: 'name-paren', why: 'X(A): a', raw: get(['X(A): a']) },
  { name: 'name-slash', why: 'X/A: a', raw: get(['X/A: a']) },
  { name: 'name-utf8', why: 'non-ASCII byte in a name', raw: get(['X\xe9: a']) },
  { name: 'name-empty', why: ': value', raw: get([': value']) },
  { name: 'name-no-colon', why: 'header line without a colon', raw: get(['JustText']) },
  { name: 'name-space-inside', why: 'X A: a', raw: get(['X A: a']) },

  // ---- request line ----------------------------------------------------------
  { name: 'http09', why: 'HTTP/0.9 style request line', raw: `GET ${T}\r\n\r\n` },
  { name: 'version-2', why: 'HTTP/2.0 on a /1.1 connection', raw: req(`GET ${T} HTTP/2.0`, ['Host: localhost']) },
  { name: 'version-12', why: 'HTTP/1.2', raw: req(`GET ${T} HTTP/1.2`, ['Host: localhost']) },
  { name: 'version-lower', why: 'http/1.1', raw: req(`GET ${T} http/1.1`, ['Host: localhost']) },
  { name: 'version-11', why: 'HTTP/11', raw: req(`GET ${T} HTTP/11`, ['Host: localhost']) },
  { name: 'version-trailing-space', why: 'space after the version', raw: req(`GET ${T} HTTP/1.1 `, ['Host: localhost']) },
  { name: 'double-space', why: 'two spaces after the method', raw: req(`GET  ${T} HTTP/1.1`, ['Host: localhost']) },
  { name: 'tab-separator', why: 'tab between method and target', raw: req(`GET\t${T} HTTP/1.1`, ['Host: localhost']) },
  { name: 'leading-crlf', why: 'empty line before the request line', raw: `\r\n${get()}` },
  {
    name: 'method-lower',
    why: 'lower-case method',
    tolerate: 'methods are case-sensitive tokens (RFC 9110 9.1): "get" is merely an unknown method, not GET',
    raw: req(`get ${T} HTTP/1.1`, ['Host: localhost']),
  },
  { name: 'method-bad-char', why: 'G@T', raw: req(`G@T ${T} HTTP/1.1`, ['Host: localhost']) },
  { name: 'method-empty', why: 'no method', raw: req(` ${T} HTTP/1.1`, ['Host: localhost']) },
  {
    name: 'method-unknown',
    why: 'FOO: a valid token no server knows',
    tolerate: 'llhttp knows a fixed list of methods; RFC 9110 allows any token',
    raw: req(`FOO ${T} HTTP/1.1`, ['Host: localhost']),
  },
  { name: 'method-long', why: '40-byte method', raw: req(`${'A'.repeat(40)} ${T} HTTP/1.1`, ['Host: localhost']) },
  { name: 'target-space', why: 'space inside the target', raw: req(`GET /api/ echo HTTP/1.1`, ['Host: localhost']) },
  { name: 'target-ctl', why: '\\x01 in the target', raw: req(`GET ${T}\x01 HTTP/1.1`, ['Host: localhost']) },
  { name: 'target-nul', why: 'NUL in the target', raw: req(`GET ${T}\x00 HTTP/1.1`, ['Host: localhost']) },
  { name: 'target-del', why: 'DEL in the target', raw: req(`GET ${T}\x7f HTTP/1.1`, ['Host: localhost']) },
  { name: 'target-utf8', why: 'raw non-ASCII byte in the target', raw: req(`GET ${T}?q=\xe9 HTTP/1.1`, ['Host: localhost']) },
  { name: 'target-fragment', why: 'fragment in the target', raw: req(`GET ${T}#frag HTTP/1.1`, ['Host: localhost']) },
  { name: 'target-no-slash', why: 'origin-form without a leading slash', raw: req(`GET api/echo HTTP/1.1`, ['Host: localhost']) },
  { name: 'target-absolute', why: 'absolute-form', raw: req(`GET http://localhost${T} HTTP/1.1`, ['Host: localhost']) },
  {
    name: 'target-absolute-other-host',
    why: 'absolute-form naming another host than Host',
    raw: req(`GET http://example.com${T} HTTP/1.1`, ['Host: localhost']),
  },
  { name: 'target-asterisk-get', why: 'GET *', raw: req('GET * HTTP/1.1', ['Host: localhost']) },
  { name: 'target-authority', why: 'CONNECT authority-form', raw: req('CONNECT localhost:80 HTTP/1.1', ['Host: localhost']) },

  // ---- Host --------------------------------------------------------------------
  { name: 'host-missing', why: 'HTTP/1.1 without Host', raw: req(`GET ${T} HTTP/1.1`) },
  { name: 'host-twice', why: 'two Host fields', raw: get(['Host: other']) },
  { name: 'host-space', why: 'Host: a b', raw: req(`GET ${T} HTTP/1.1`, ['Host: a b']) },

  // ---- sizes -------------------------------------------------------------------
  { name: 'huge-header', why: 'a 20 KiB header line', raw: get([`X-Big: ${'a'.repeat(20 * 1024)}`]) },
  { name: 'huge-target', why: 'a 20 KiB target', raw: req(`GET ${T}?${'a'.repeat(20 * 1024)} HTTP/1.1`, ['Host: localhost']) },
  { name: 'many-headers', why: '300 header fields', raw: get(Array.from({ length: 300 }, (_, i) => `X-H${i}: v`)) },
  { name: 'short-body', why: 'body shorter than Content-Length', raw: post(['Content-Length: 10'], 'hello') },

  // ---- pipelining after odd framing -----------------------------------------
  {
    name: 'pipe-after-long-body',
    why: 'body longer than Content-Length, then junk',
    raw: post(['Content-Length: 3'], 'helloJUNK\r\n\r\n'),
  },
  {
    name: 'pipe-smuggle-cl0',
    why: 'CL: 0 then a second request in the body bytes',
    raw: post(['Content-Length: 0'], get()),
  },
  {
    name: 'expect-unknown',
    why: 'Expect: something-else',
    tolerate: 'Node answers 417 (its http layer, not llhttp); RFC 9110 10.1.1 makes that a MAY',
    raw: post(['Expect: something-else', 'Content-Length: 2'], 'ok'),
  },
];
