/*
 * parse_line_int.h - what parse_line.c (the line's prefix) and
 * parse_message.c (its message) share.  Private to them; parse_line.h is
 * the contract.
 */
#ifndef PH_PARSE_LINE_INT_H
#define PH_PARSE_LINE_INT_H

#include "parse_line.h"

/* span_make - a span from two pointers. */
static inline struct span
span_make(const char *p, const char *end)
{
	struct span s;

	s.p = p;
	s.len = end > p ? (size_t) (end - p) : 0;
	return (s);
}

#endif
