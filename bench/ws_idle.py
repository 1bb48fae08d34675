# ws_idle.py -- run by gdb inside a Kiln worker (bench/ws_idle.sh): where the
# memory of each upgraded connection whose handler is suspended goes, from
# the worker's own structures. Sizes are malloc chunk sizes (what the heap
# really spends, header and rounding included). Prints one line per item.
import gdb

inf = gdb.selected_inferior()


def chunk(p):
    p = int(p)
    if p == 0:
        return 0
    return int.from_bytes(bytes(inf.read_memory(p - 8, 8)), 'little') & ~7


w = gdb.parse_and_eval('kiln_current_worker')
c = w['conns']
tot, n = {}, 0


def add(k, v):
    tot[k] = tot.get(k, 0) + v


ws_t = gdb.lookup_type('struct kiln_ws').pointer()
while int(c) != 0:
    if int(c['proto']) != 0 and int(c['co']) != 0:
        n += 1
        ws = c['proto_ctx'].cast(ws_t)
        co, a = c['co'], c['arena']
        add('conn struct', chunk(c))
        add('WebSocket session struct', chunk(ws))
        add('coroutine record', chunk(co))
        add('stack in use at the wait (bytes, unpacked)', int(co['saved_len']) if co['off'] else 0)
        add('parked stack copy (packed)', chunk(co['saved']) if co['off'] else 0)
        add('arena in use (bytes, unpacked)', int(a['parked_len']) if a['off'] else 0)
        add('parked arena copy (packed)', chunk(a['parked']) if a['off'] else 0)
        add('arena pages still mapped (not parked)', 0 if a['off'] or not c['arena_live'] else 4096)
        for nm in ('in', 'out', 'body', 'res_body'):
            add('conn.%s buffer' % nm, chunk(c[nm]['data']))
        for nm in ('stash', 'inflated'):
            add('session.%s buffer' % nm, chunk(ws[nm]['data']))
        add('session.rx.msg buffer', chunk(ws['rx']['msg']['data']))
        add('control payload buffer', chunk(ws['rx']['ctl']))
        add('close reason buffer', chunk(ws['close_reason']))
        add('sockets with permessage-deflate', 1 if ws['deflate']['enabled'] else 0)
        add('stacks parked', 1 if co['off'] else 0)
        add('arenas parked', 1 if a['off'] else 0)
    c = c['next']
l = w['loop']
add('timer heap slot', 8 * int(l['capheap']))
print('BREAKDOWN sockets %d' % n)
for k, v in tot.items():
    print('BREAKDOWN %-45s %8.1f' % (k, v / max(n, 1)))
