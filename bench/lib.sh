# bench/lib.sh — what the benchmark scripts share (sourced by run.sh, bot_row.sh, watch_cpu.sh).

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# CPU time (user + system, all threads, in clock ticks) used so far by process $1.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# A fresh store at $SHARECARD_DB with one card, "ada", made by sharecard binary $1; prints the
# code of its QR link.
ada_store() {
    SHARECARD_ADMIN_PASSWORD=benchmark-password "$1" init --admin-email a@example.com >/dev/null 2>&1
    "$1" member add --name Ada --email ada@example.com --slug ada --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["qr_url"].rsplit("/",1)[1])'
}
