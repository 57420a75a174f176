/*
 * qr.c — QR codes of tracked links as PNG (libqrencode + libpng) and SVG.
 *
 * ECC level M (15% of the code may be damaged or covered) and the quiet zone
 * of 4 modules the standard asks for.  The PNG is 1 bit per pixel with no
 * row filter: QR rows are long runs that deflate well unfiltered, and this
 * keeps generation fast.  The SVG draws each horizontal run of dark modules
 * as one rectangle of a single path, so it is small and sharp at any size.
 */
#include <png.h>
#include <qrencode.h>
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/card.h"

#define QUIET 4

static enum sc_err encode(const char *text, QRcode **out)
{
    if (!text || !text[0])
        return SC_EINVAL;
    if (strlen(text) > 2331) /* the most bytes a version-40 code holds at level M */
        return SC_ETOOBIG;
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr)
        return errno == ERANGE ? SC_ETOOBIG : errno == EINVAL ? SC_EINVAL : SC_ENOMEM;
    *out = qr;
    return SC_OK;
}

static void png_write_buf(png_structp png, png_bytep data, png_size_t len)
{
    struct sc_buf *b = png_get_io_ptr(png);
    sc_buf_append(b, data, len);
}

static void png_flush_none(png_structp png)
{
    (void)png;
}

/* libpng's own handlers print to stderr; ours stay quiet and let setjmp report. */
static void png_quiet_error(png_structp png, png_const_charp msg)
{
    (void)msg;
    png_longjmp(png, 1);
}

static void png_quiet_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static enum sc_err write_png(struct sc_buf *out, const QRcode *qr, unsigned size);

enum sc_err sc_qr_png(struct sc_buf *out, const char *text, unsigned size)
{
    QRcode *qr = NULL;
    enum sc_err e = encode(text, &qr);
    if (e != SC_OK)
        return e;
    size_t start = out->len;
    e = write_png(out, qr, size);
    QRcode_free(qr);
    if (e != SC_OK && !sc_buf_error(out)) {
        out->len = start; /* no half-written image for the caller to send */
        if (out->data)
            out->data[start] = '\0';
    }
    return e;
}

/* The PNG of 'qr' (borrowed); kept apart so that nothing setjmp may clobber is changed. */
static enum sc_err write_png(struct sc_buf *out, const QRcode *qr, unsigned size)
{
    const unsigned clamped = size < SC_QR_SIZE_MIN   ? SC_QR_SIZE_MIN
                             : size > SC_QR_SIZE_MAX ? SC_QR_SIZE_MAX
                                                     : size;
    const unsigned modules = (unsigned)qr->width + 2 * QUIET;
    const unsigned scale = clamped / modules > 0 ? clamped / modules : 1;
    /* Exactly the size asked for: whole pixels per module (crisp), the rest a wider
     * white margin around the quiet zone, split evenly. */
    const unsigned px = modules * scale > clamped ? modules * scale : clamped;
    const unsigned margin = (px - modules * scale) / 2;
    const size_t rowbytes = (px + 7) / 8;

    png_structp png = NULL;
    png_infop info = NULL;
    unsigned char *volatile row = malloc(rowbytes);
    volatile enum sc_err rc = SC_ENOMEM;
    if (!row)
        goto out;
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_quiet_error, png_quiet_warning);
    if (!png)
        goto out;
    info = png_create_info_struct(png);
    if (!info)
        goto out;
    if (setjmp(png_jmpbuf(png))) {
        rc = SC_ENOMEM;
        goto out;
    }
    png_set_write_fn(png, out, png_write_buf, png_flush_none);
    png_set_IHDR(png, info, px, px, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_filter(png, 0, PNG_FILTER_NONE);
    png_set_compression_level(png, 3);
    png_write_info(png, info);

    memset(row, 0xff, rowbytes);
    for (unsigned y = 0; y < margin; y++)
        png_write_row(png, row);
    for (unsigned y = 0; y < modules; y++) {
        /* In 1-bit greyscale 1 is white: start white, clear dark modules. */
        memset(row, 0xff, rowbytes);
        int my = (int)y - QUIET;
        if (my >= 0 && my < qr->width) {
            const unsigned char *m = qr->data + (size_t)my * (size_t)qr->width;
            for (int x = 0; x < qr->width; x++) {
                if (!(m[x] & 1))
                    continue;
                unsigned x0 = margin + ((unsigned)x + QUIET) * scale;
                for (unsigned k = 0; k < scale; k++) {
                    unsigned bit = x0 + k;
                    row[bit >> 3] &= (unsigned char)~(0x80u >> (bit & 7));
                }
            }
        }
        for (unsigned k = 0; k < scale; k++)
            png_write_row(png, row);
    }
    memset(row, 0xff, rowbytes);
    for (unsigned y = margin + modules * scale; y < px; y++)
        png_write_row(png, row);
    png_write_end(png, NULL);
    rc = sc_buf_error(out);
out:
    if (png)
        png_destroy_write_struct(&png, info ? &info : NULL);
    free(row);
    return rc;
}

enum sc_err sc_qr_svg(struct sc_buf *out, const char *text)
{
    QRcode *qr = NULL;
    enum sc_err e = encode(text, &qr);
    if (e != SC_OK)
        return e;
    int w = qr->width, n = w + 2 * QUIET;
    sc_buf_printf(out,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                  "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">"
                  "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                  n, n, n * 8, n * 8, n, n);
    for (int y = 0; y < w; y++) {
        const unsigned char *m = qr->data + (size_t)y * (size_t)w;
        int x = 0;
        while (x < w) {
            if (!(m[x] & 1)) {
                x++;
                continue;
            }
            int start = x;
            while (x < w && (m[x] & 1))
                x++;
            sc_buf_printf(out, "M%d %dh%dv1h-%dz", start + QUIET, y + QUIET, x - start, x - start);
        }
    }
    sc_buf_puts(out, "\"/></svg>\n");
    QRcode_free(qr);
    return sc_buf_error(out);
}
