/*
 * redis.c -- channels across machines through Redis pub/sub (KILN_REDIS_URL).
 * (Being written: until then the bridge is off and channels stay on this
 * machine.)
 */
#include "realtime/bridge.h"

bool redis_bridge_enabled(void) { return false; }
void redis_bridge_attach(loop *l) { (void)l; }
void redis_bridge_publish(kiln_str channel, kiln_str event, kiln_str id, kiln_str data) { (void)channel; (void)event; (void)id; (void)data; }
void redis_bridge_detach(void) {}
