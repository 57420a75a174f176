/*
 * bench_qr.c — cold QR generation in process: microseconds per PNG and SVG
 * of a typical tracked link, median of several rounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sharecard/card.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_us(int svg, unsigned size)
{
    enum { ROUNDS = 7, N = 500 };
    double r[ROUNDS];
    char url[64];
    struct sc_buf b;
    sc_buf_init(&b, 0);
    for (int k = 0; k < ROUNDS; k++) {
        double t0 = now_us();
        for (int i = 0; i < N; i++) {
            snprintf(url, sizeof(url), "https://cards.example.com/l/%08d", k * N + i);
            sc_buf_reset(&b);
            if ((svg ? sc_qr_svg(&b, url) : sc_qr_png(&b, url, size)) != SC_OK)
                exit(1);
        }
        r[k] = (now_us() - t0) / N;
    }
    sc_buf_cleanup(&b);
    qsort(r, ROUNDS, sizeof(r[0]), cmp);
    return r[ROUNDS / 2];
}

int main(void)
{
    printf("cold QR PNG 512 px: %.1f us/code\n", median_us(0, 512));
    printf("cold QR PNG 2048 px: %.1f us/code\n", median_us(0, 2048));
    printf("cold QR SVG: %.1f us/code\n", median_us(1, 0));
    return 0;
}
