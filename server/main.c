/*
 * main.c — the sharecard binary: everything lives in the static library;
 * this file only hands the command line to it.
 */
#include "sharecard/server.h"

int main(int argc, char **argv)
{
    return sc_cli_main(argc, argv);
}
