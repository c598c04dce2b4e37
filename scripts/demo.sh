#!/usr/bin/env bash
# The demo: a fresh demo library on SQLite served by a real libcli-server, and a patron
# session against it with the real libcli. Everything lives in one temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
WORK=$(mktemp -d -t libcli-demo-XXXXXX)
PORT=${PORT:-$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}

# The patron's side: its own config folder, where the demo keeps the session token in a
# 0600 file (--insecure-storage); on a desktop, libcli keeps it in the OS keyring instead.
export LIBCLI_CONFIG_DIR="$WORK/config" XDG_DATA_HOME="$WORK/data"
export LIBCLI_SERVER="http://127.0.0.1:$PORT" LIBCLI_SERVER_PUBLIC_URL="http://127.0.0.1:$PORT"
export LIBCLI_LANG=${LIBCLI_LANG:-ja}

"$BIN/libcli-server" demo --port "$PORT" --data-dir "$WORK/server" >"$WORK/demo.txt" 2>"$WORK/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fsS "$LIBCLI_SERVER/health" >/dev/null 2>&1 && break
  kill -0 $SERVER 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.2
done
cat "$WORK/demo.txt"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@" || printf '(exit %s)\n' "$?"; }
libcli() { "$BIN/libcli" "$@"; }

echo
echo "== A patron session (青森 花子, card 100000001) =="
printf 'hanako-no-hon\n' | "$BIN/libcli" login 100000001 --password-stdin --insecure-storage
step libcli whoami
step libcli search 太宰
step libcli show T0005
step libcli fav add T0008 T0001 T0048 M0002
step libcli fav list
step libcli reserve --favorites --pickup main --contact email --email-confirmation --yes
step libcli status
step libcli cancel "$("$BIN/libcli" status --json | "$BIN/python" -c 'import json,sys; r=[x for x in json.load(sys.stdin)["reservations"] if x["status"]=="waiting"]; print(r[-1]["reservation_id"])')" --yes
step libcli status
echo
echo "== The library's side: mail sent to patrons =="
"$BIN/libcli-server" mail deliver --database "sqlite:///$WORK/server/library.db"
"$BIN/libcli-server" mail list --database "sqlite:///$WORK/server/library.db"
step libcli logout
echo
echo "Demo folder: $WORK (to keep a demo server running: $BIN/libcli-server demo)"
