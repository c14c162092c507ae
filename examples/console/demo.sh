#!/usr/bin/env bash
# The console demo: records the example's executions in a fresh store and opens the console on it.
#   bash examples/console/demo.sh            then open the printed URL (http://127.0.0.1:3030/)
# order-1 succeeds (a retry, a Choice loop, a Parallel with a Map), order-2 fails (a declined
# card is caught, then a Fail state), order-3 was interrupted (its process was killed while it
# waited) and stays RUNNING until you resume or stop it from the console.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q -p workflow-cli
W=target/debug/workflow
DEF=examples/console/orders.asl.json
DB=${DB:-target/console-demo.db}
rm -f "$DB" "$DB-wal" "$DB-shm"
$W run "$DEF" --store "$DB" --handlers builtin --name order-1 \
  --input '{"order":{"id":1,"restock":1,"charge":120,"lines":[{"sku":"A","ms":30},{"sku":"B","ms":10},{"sku":"C","ms":20}]}}' >/dev/null
$W run "$DEF" --store "$DB" --handlers builtin --name order-2 \
  --input '{"order":{"id":2,"restock":0,"charge":5000,"lines":[{"sku":"A","ms":5}]}}' >/dev/null || true
$W run "$DEF" --store "$DB" --handlers builtin --name order-3 \
  --input '{"order":{"id":3,"restock":0,"charge":50,"lines":[{"sku":"A","ms":600000}]}}' >/dev/null &
sleep 2
kill $! 2>/dev/null || true
wait 2>/dev/null || true
exec $W console --store "$DB" "$@"
