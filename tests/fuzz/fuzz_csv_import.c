/*
 * fuzz_csv_import.c — libFuzzer target for the CSV member import
 * (sc_members_import) over an SQLite store in memory: any file is read
 * within bounds, every line is reported, and nothing crashes or leaks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../server/pages_int.h"
#include "sharecard/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sc_store *store;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    if (!store && sc_store_open(":memory:", &store, err, sizeof(err)) != SC_OK) {
        fprintf(stderr, "cannot open a store: %s\n", err);
        abort();
    }
    struct import_result res = {0};
    sc_buf_init(&res.rows, 1 << 20);
    sc_members_import(store, "fuzz", NULL, SC_ROLE_ADMIN, (const char *)data, size, &res);
    if (res.added + res.failed > IMPORT_MAX_ROWS + 1)
        abort();
    sc_buf_cleanup(&res.rows);
    return 0;
}
