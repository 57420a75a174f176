/*
 * mhd_floor.c — the floor under sharecard's HTTP side: a libmicrohttpd
 * server with sharecard's daemon flags that answers every request with the
 * same prebuilt 302 and does nothing else (no routing, no event, no
 * headers of ours).  bench/run.sh measures it beside nginx and sharecard,
 * so the table shows how much of a gap is the library and how much is ours.
 *
 *   mhd_floor PORT
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <microhttpd.h>

static struct MHD_Response *redirect;

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload;
    if (!*state) { /* answering on the first call would cost keep-alive (0.9.75) */
        *state = redirect;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_FOUND, redirect);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mhd_floor PORT\n");
        return 2;
    }
    redirect = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!redirect ||
        MHD_add_response_header(redirect, MHD_HTTP_HEADER_LOCATION, "/c/ada") != MHD_YES)
        return 1;
    sigset_t set; /* blocked before the daemon's thread starts, which inherits the mask */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ITC |
            MHD_ALLOW_SUSPEND_RESUME,
        (uint16_t)atoi(argv[1]), NULL, NULL, answer, NULL, MHD_OPTION_CONNECTION_LIMIT, 4096,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "mhd_floor: cannot listen on port %s\n", argv[1]);
        return 1;
    }
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(redirect);
    return 0;
}
