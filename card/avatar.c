/*
 * avatar.c — an uploaded photo made safe to keep and to serve: PNG or JPEG
 * only, decoded (libpng's simplified API, TurboJPEG) with bounds on its
 * size before any pixel is read, scaled down to fit SC_AVATAR_SIDE, and
 * encoded afresh as a baseline JPEG.  Nothing of the upload survives but
 * its pixels: no metadata (EXIF locations), no trailing bytes, no tricks.
 */
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <turbojpeg.h>

#include "sharecard/card.h"

#define MAX_SIDE   8192               /* the largest side we decode */
#define MAX_PIXELS (24 * 1000 * 1000) /* and the most pixels */

static bool is_png(const unsigned char *p, size_t n)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    return n >= 8 && memcmp(p, sig, 8) == 0;
}

static bool is_jpeg(const unsigned char *p, size_t n)
{
    return n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff;
}

static bool size_ok(unsigned w, unsigned h)
{
    return w > 0 && h > 0 && w <= MAX_SIDE && h <= MAX_SIDE &&
           (uint64_t)w * (uint64_t)h <= MAX_PIXELS;
}

/* PNG to RGB on white; '*rgb' is new. */
static enum sc_err png_rgb(const unsigned char *in, size_t len, unsigned char **rgb, unsigned *w,
                           unsigned *h, const char **why)
{
    png_image img;
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, in, len)) {
        *why = "the PNG file is damaged";
        return SC_EINVAL;
    }
    if (!size_ok(img.width, img.height)) {
        png_image_free(&img);
        *why = "the image is too large (at most 8192 pixels a side)";
        return SC_ETOOBIG;
    }
    img.format = PNG_FORMAT_RGB;
    png_color white = {255, 255, 255};
    size_t n = PNG_IMAGE_SIZE(img);
    *rgb = malloc(n);
    if (!*rgb) {
        png_image_free(&img);
        return SC_ENOMEM;
    }
    if (!png_image_finish_read(&img, &white, *rgb, 0, NULL)) {
        free(*rgb);
        *rgb = NULL;
        png_image_free(&img);
        *why = "the PNG file is damaged";
        return SC_EINVAL;
    }
    *w = img.width;
    *h = img.height;
    png_image_free(&img);
    return SC_OK;
}

static enum sc_err jpeg_rgb(const unsigned char *in, size_t len, unsigned char **rgb, unsigned *w,
                            unsigned *h, const char **why)
{
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return SC_ENOMEM;
    int width, height, sub, space;
    enum sc_err e = SC_OK;
    if (tjDecompressHeader3(tj, in, (unsigned long)len, &width, &height, &sub, &space) != 0) {
        *why = "the JPEG file is damaged";
        e = SC_EINVAL;
    } else if (!size_ok((unsigned)width, (unsigned)height)) {
        *why = "the image is too large (at most 8192 pixels a side)";
        e = SC_ETOOBIG;
    } else if (!(*rgb = malloc((size_t)width * (size_t)height * 3))) {
        e = SC_ENOMEM;
    } else if (tjDecompress2(tj, in, (unsigned long)len, *rgb, width, 0, height, TJPF_RGB,
                             TJFLAG_ACCURATEDCT) != 0 &&
               tjGetErrorCode(tj) == TJERR_FATAL) {
        free(*rgb);
        *rgb = NULL;
        *why = "the JPEG file is damaged";
        e = SC_EINVAL;
    } else {
        *w = (unsigned)width;
        *h = (unsigned)height;
    }
    tjDestroy(tj);
    return e;
}

/* Box-filter 'src' (w×h RGB) down to fit 'side', in place of '*src' when smaller. */
static enum sc_err shrink(unsigned char **src, unsigned *w, unsigned *h, unsigned side)
{
    if (*w <= side && *h <= side)
        return SC_OK;
    unsigned nw, nh;
    if (*w >= *h) {
        nw = side;
        nh = (unsigned)((uint64_t)*h * side / *w);
    } else {
        nh = side;
        nw = (unsigned)((uint64_t)*w * side / *h);
    }
    if (nw == 0)
        nw = 1;
    if (nh == 0)
        nh = 1;
    unsigned char *dst = malloc((size_t)nw * nh * 3);
    if (!dst)
        return SC_ENOMEM;
    for (unsigned y = 0; y < nh; y++) {
        unsigned y0 = (unsigned)((uint64_t)y * *h / nh),
                 y1 = (unsigned)((uint64_t)(y + 1) * *h / nh);
        if (y1 <= y0)
            y1 = y0 + 1;
        for (unsigned x = 0; x < nw; x++) {
            unsigned x0 = (unsigned)((uint64_t)x * *w / nw),
                     x1 = (unsigned)((uint64_t)(x + 1) * *w / nw);
            if (x1 <= x0)
                x1 = x0 + 1;
            uint64_t sum[3] = {0, 0, 0}, n = 0;
            for (unsigned yy = y0; yy < y1; yy++)
                for (unsigned xx = x0; xx < x1; xx++, n++) {
                    const unsigned char *p = *src + ((size_t)yy * *w + xx) * 3;
                    sum[0] += p[0];
                    sum[1] += p[1];
                    sum[2] += p[2];
                }
            unsigned char *q = dst + ((size_t)y * nw + x) * 3;
            for (int c = 0; c < 3; c++)
                q[c] = (unsigned char)((sum[c] + n / 2) / n);
        }
    }
    free(*src);
    *src = dst;
    *w = nw;
    *h = nh;
    return SC_OK;
}

enum sc_err sc_avatar_normalise(const unsigned char *in, size_t len, unsigned char **out,
                                size_t *outlen, const char **why)
{
    *out = NULL;
    *outlen = 0;
    *why = NULL;
    if (len > SC_AVATAR_MAX) {
        *why = "the photo is larger than 512 KB";
        return SC_ETOOBIG;
    }
    unsigned char *rgb = NULL;
    unsigned w = 0, h = 0;
    enum sc_err e;
    if (is_png(in, len))
        e = png_rgb(in, len, &rgb, &w, &h, why);
    else if (is_jpeg(in, len))
        e = jpeg_rgb(in, len, &rgb, &w, &h, why);
    else {
        *why = "the photo must be a PNG or JPEG image";
        return SC_EINVAL;
    }
    if (e == SC_OK)
        e = shrink(&rgb, &w, &h, SC_AVATAR_SIDE);
    if (e == SC_OK) {
        tjhandle tj = tjInitCompress();
        unsigned char *jpg = NULL;
        unsigned long jlen = 0;
        if (!tj)
            e = SC_ENOMEM;
        else if (tjCompress2(tj, rgb, (int)w, 0, (int)h, TJPF_RGB, &jpg, &jlen, TJSAMP_420, 85,
                             TJFLAG_ACCURATEDCT) != 0)
            e = SC_ENOMEM;
        if (e == SC_OK && (*out = malloc(jlen)) != NULL) {
            memcpy(*out, jpg, jlen);
            *outlen = jlen;
        } else if (e == SC_OK) {
            e = SC_ENOMEM;
        }
        tjFree(jpg);
        if (tj)
            tjDestroy(tj);
    }
    free(rgb);
    return e;
}
