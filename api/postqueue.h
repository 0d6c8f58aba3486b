/*
 * postqueue.h - ask Postfix about and for one queued message through
 * postqueue(1), which any user may run: is it still queued, and "deliver
 * it now".
 */
#ifndef PH_POSTQUEUE_H
#define PH_POSTQUEUE_H

/* postqueue_has - 1 when qid is in Postfix's queue, 0 when not, -1 on error. */
int postqueue_has(const char *qid);

/* postqueue_flush - postqueue -i qid; 0 when it succeeded, else -1. */
int postqueue_flush(const char *qid);

#endif
