// slow_dns.mjs -- a DNS server for redis_dns.test.mjs, run inside the
// test's own network namespace (loopback only: nothing leaves the machine):
//   node slow_dns.mjs DELAY_MS|never NAME
// Listens on 127.0.0.1:53 (UDP). A query for NAME, type A, is answered
// 127.0.0.1 after DELAY_MS; any other query is answered "no such name" at
// once. With "never" no query for NAME is answered at all (a DNS server
// that hangs) until SIGUSR1, after which they are, at once (it prints
// "answering"). Prints "ready" when it listens, and a line per query
// received and per answer sent: "query|answer NAME TYPE AT_MS" (Date.now()).
import dgram from 'node:dgram';

let delay = process.argv[2] === 'never' ? -1 : Number(process.argv[2]);
process.on('SIGUSR1', () => { delay = 0; console.log('answering'); });
const NAME = process.argv[3].toLowerCase();
const sock = dgram.createSocket('udp4');

function qname(msg) {
  const labels = [];
  let i = 12;
  while (i < msg.length && msg[i] !== 0) {
    labels.push(msg.subarray(i + 1, i + 1 + msg[i]).toString('latin1'));
    i += 1 + msg[i];
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

sock.on('message', (msg, rinfo) => {
  if (msg.length < 17) return;
  const { name, end } = qname(msg);
  const qtype = msg.readUInt16BE(end);
  const question = msg.subarray(12, end + 4);
  const hit = name === NAME && qtype === 1;
  const head = Buffer.alloc(12);
  msg.copy(head, 0, 0, 2);                       // the query's id
  head.writeUInt16BE(hit ? 0x8180 : 0x8183, 2);  // response, RD+RA; NXDOMAIN when not ours
  head.writeUInt16BE(1, 4);                      // one question
  head.writeUInt16BE(hit ? 1 : 0, 6);            // one answer
  const answer = hit ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]) : Buffer.alloc(0);
  const reply = Buffer.concat([head, question, answer]);
  console.log(`query ${name} ${qtype} ${Date.now()}`);
  if (name === NAME && delay < 0) return;        // hung: no answer at all
  setTimeout(() => {
    sock.send(reply, rinfo.port, rinfo.address);
    console.log(`answer ${name} ${qtype} ${Date.now()}`);
  }, hit ? delay : 0);
});
sock.bind(53, '127.0.0.1', () => console.log('ready'));
