/*
 * test_buf.c — the growable buffer every writer uses: growth, starting on a
 * stack buffer, the hard cap and its sticky error, printf, and handing the
 * bytes over with steal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/buf.h"

static void test_grows_on_heap(void **state)
{
    (void)state;
    struct sc_buf b;
    sc_buf_init(&b, 0);
    assert_int_equal(b.max, SC_BUF_DEFAULT_MAX);
    assert_int_equal(b.len, 0);
    /* 10 000 appends of a 7-byte pattern: contents must survive every realloc. */
    for (int i = 0; i < 10000; i++)
        sc_buf_append(&b, "abcdefg", 7);
    assert_int_equal(sc_buf_error(&b), SC_OK);
    assert_int_equal(b.len, 70000);
    assert_true(b.cap > b.len);
    assert_int_equal(b.on_heap, 1);
    for (size_t i = 0; i < b.len; i++)
        assert_int_equal(b.data[i], "abcdefg"[i % 7]);
    assert_int_equal(b.data[b.len], '\0');
    sc_buf_cleanup(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_binary_safe(void **state)
{
    (void)state;
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_buf_append(&b, "a\0b", 3);
    sc_buf_putc(&b, '\0');
    sc_buf_putc(&b, 'c');
    sc_buf_append(&b, "ignored", 0);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "a\0b\0c", 6); /* with the trailing NUL */
    sc_buf_cleanup(&b);
}

static void test_stack_then_heap(void **state)
{
    (void)state;
    char stack[8];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 0);
    assert_ptr_equal(b.data, stack);
    assert_int_equal(stack[0], '\0');
    /* 7 bytes and the NUL fill the stack buffer exactly: still no heap. */
    sc_buf_puts(&b, "1234567");
    assert_ptr_equal(b.data, stack);
    assert_int_equal(b.on_heap, 0);
    assert_string_equal(stack, "1234567");
    /* One more byte moves the contents to the heap. */
    sc_buf_putc(&b, '8');
    assert_ptr_not_equal(b.data, stack);
    assert_int_equal(b.on_heap, 1);
    assert_string_equal(b.data, "12345678");
    sc_buf_puts(&b, "9");
    assert_string_equal(b.data, "123456789");
    assert_int_equal(sc_buf_error(&b), SC_OK);
    sc_buf_cleanup(&b); /* frees the heap copy only; ASan flags a free of 'stack' */
}

static void test_reset_keeps_memory(void **state)
{
    (void)state;
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_buf_puts(&b, "some text");
    char *data = b.data;
    size_t cap = b.cap;
    sc_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_string_equal(b.data, "");
    sc_buf_puts(&b, "new");
    assert_string_equal(b.data, "new");
    sc_buf_cleanup(&b);
}

static void test_cap_is_hard_and_sticky(void **state)
{
    (void)state;
    struct sc_buf b;
    sc_buf_init(&b, 10);
    sc_buf_puts(&b, "0123456789"); /* exactly the cap: allowed */
    assert_int_equal(sc_buf_error(&b), SC_OK);
    assert_int_equal(b.len, 10);

    sc_buf_putc(&b, 'x'); /* one past */
    assert_int_equal(sc_buf_error(&b), SC_ETOOBIG);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");

    /* Sticky: appends that would fit change nothing once the error is set. */
    sc_buf_reset(&b);
    sc_buf_putc(&b, 'a');
    assert_int_equal(sc_buf_error(&b), SC_OK);
    sc_buf_append(&b, "0123456789", 10);
    assert_int_equal(sc_buf_error(&b), SC_ETOOBIG);
    sc_buf_putc(&b, 'b');
    sc_buf_printf(&b, "%d", 1);
    assert_int_equal(sc_buf_error(&b), SC_ETOOBIG);
    assert_int_equal(b.len, 1);
    assert_string_equal(b.data, "a");
    assert_null(sc_buf_steal(&b, NULL));

    /* reset clears the error. */
    sc_buf_reset(&b);
    assert_int_equal(sc_buf_error(&b), SC_OK);
    sc_buf_puts(&b, "ok");
    assert_string_equal(b.data, "ok");
    sc_buf_cleanup(&b);
}

static void test_cap_on_stack_buffer(void **state)
{
    (void)state;
    char stack[64];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 4);
    sc_buf_puts(&b, "abcde");
    assert_int_equal(sc_buf_error(&b), SC_ETOOBIG);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.data, stack);
    sc_buf_cleanup(&b);
}

static void test_printf(void **state)
{
    (void)state;
    char stack[16];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 0);
    sc_buf_puts(&b, "n=");
    sc_buf_printf(&b, "%d %s %05.1f %zu", -42, "z", 3.14159, (size_t)7);
    assert_string_equal(b.data, "n=-42 z 003.1 7");

    /* Longer than printf's 256-byte scratch: formatted straight into the buffer. */
    char big[1000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sc_buf_reset(&b);
    sc_buf_printf(&b, "<%s>", big);
    assert_int_equal(sc_buf_error(&b), SC_OK);
    assert_int_equal(b.len, 1001);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[1000], '>');
    assert_int_equal(b.data[1001], '\0');
    assert_memory_equal(b.data + 1, big, 999);
    sc_buf_cleanup(&b);

    /* printf past the cap fails with nothing written, in both size paths. */
    sc_buf_init(&b, 8);
    sc_buf_printf(&b, "%s", "123456789");
    assert_int_equal(sc_buf_error(&b), SC_ETOOBIG);
    assert_int_equal(b.len, 0);
    sc_buf_reset(&b);
    sc_buf_printf(&b, "%s", big);
    assert_int_equal(sc_buf_error(&b), SC_ETOOBIG);
    assert_int_equal(b.len, 0);
    sc_buf_cleanup(&b);
}

static void test_steal_from_heap(void **state)
{
    (void)state;
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_buf_puts(&b, "hello");
    char *data = b.data;
    size_t len = 0;
    char *p = sc_buf_steal(&b, &len);
    assert_ptr_equal(p, data); /* no copy */
    assert_int_equal(len, 5);
    assert_string_equal(p, "hello");
    /* 'b' is empty and usable again, and no longer owns 'p'. */
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    sc_buf_puts(&b, "again");
    assert_string_equal(b.data, "again");
    assert_ptr_not_equal(b.data, p);
    sc_buf_cleanup(&b);
    free(p);
}

static void test_steal_from_stack_copies(void **state)
{
    (void)state;
    char stack[64];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 0);
    sc_buf_append(&b, "hi\0there", 8);
    size_t len = 0;
    char *p = sc_buf_steal(&b, &len);
    assert_non_null(p);
    assert_ptr_not_equal(p, stack);
    assert_int_equal(len, 8);
    assert_memory_equal(p, "hi\0there", 9);
    free(p); /* ASan flags this if 'p' were the stack buffer */
    sc_buf_cleanup(&b);
}

static void test_steal_empty(void **state)
{
    (void)state;
    struct sc_buf b;
    sc_buf_init(&b, 0);
    size_t len = 99;
    char *p = sc_buf_steal(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 0);
    assert_string_equal(p, "");
    free(p);
    sc_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grows_on_heap),
        cmocka_unit_test(test_binary_safe),
        cmocka_unit_test(test_stack_then_heap),
        cmocka_unit_test(test_reset_keeps_memory),
        cmocka_unit_test(test_cap_is_hard_and_sticky),
        cmocka_unit_test(test_cap_on_stack_buffer),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_steal_from_heap),
        cmocka_unit_test(test_steal_from_stack_copies),
        cmocka_unit_test(test_steal_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
