/*
 * observe.h -- error reports, metrics, health and trace context, plugged
 * into the engine and the framework by one call (app/app.c, before the
 * server starts; after the app's own master-start hook is registered).
 */
#ifndef KILN_REPORT_OBSERVE_H
#define KILN_REPORT_OBSERVE_H

void observe_register(void);

#endif
