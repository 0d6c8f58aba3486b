/*
 * table.c - readable tables for posthookctl's lists: columns as wide as
 * their widest cell, two spaces apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "util/util.h"

struct table {
	int ncols;
	size_t nrows;
	char **cells; /* nrows x ncols, row 0 the headers */
};

/* table_new - a table with these column headers */
struct table *
table_new(int ncols, const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	table_add_row(t, headers);
	return t;
}

/* table_add_row - append a row; NULL cells print as "-" */
void
table_add_row(struct table *t, const char *const *cells)
{
	int i;

	t->cells =
	    xrealloc(t->cells, (t->nrows + 1) * (size_t) t->ncols * sizeof(char *));
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * (size_t) t->ncols + (size_t) i] =
		    xstrdup(cells[i] != NULL ? cells[i] : "-");
	t->nrows++;
}

/* table_print - print to stdout */
void
table_print(const struct table *t)
{
	size_t *width = xcalloc((size_t) t->ncols, sizeof(size_t));
	size_t r;
	int i;

	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++) {
			size_t len = strlen(t->cells[r * (size_t) t->ncols + (size_t) i]);

			if (len > width[i])
				width[i] = len;
		}
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			const char *cell = t->cells[r * (size_t) t->ncols + (size_t) i];

			if (i == t->ncols - 1)
				printf("%s\n", cell);
			else
				printf("%-*s  ", (int) width[i], cell);
		}
	}
	free(width);
}

/* table_free - free the table and its cells */
void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * (size_t) t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
