#!/usr/bin/env bash
# `edgebone run --mqtt` against a real broker: Debian's Mosquitto, started here on loopback ports with a
# password file and a TLS listener (a throw-away CA made here), checked with a real subscriber.
# usage: run-mqtt-tests.sh path/to/edgebone        (installs mosquitto, mosquitto-clients, openssl if missing)
set -euo pipefail
exe=$(realpath "${1:?usage: run-mqtt-tests.sh path/to/edgebone}")
root=$(cd "$(dirname "$0")/../.." && pwd)

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
for p in mosquitto mosquitto-clients openssl python3; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "mqtt tests: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo_ apt-get update -q >/dev/null
  sudo_ apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# Free loopback ports, one per broker listener.
read -r PLAIN TLS LATE < <(python3 - <<'EOF'
import socket
ports = []
socks = []
for _ in range(3):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s); ports.append(s.getsockname()[1])
print(*ports)
EOF
)

# A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA nobody trusts.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=edgebone test CA" -keyout ca.key -out ca.crt 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rogue CA" -keyout rogue.key -out rogue.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt 2>/dev/null
touch passwords && chmod 600 passwords
mosquitto_passwd -b passwords edge 'c0rrect horse' 2>/dev/null
export EDGEBONE_MQTT_PASSWORD='c0rrect horse'

cat >broker.conf <<EOF
per_listener_settings false
user $(id -un)
allow_anonymous false
password_file $work/passwords
persistence false
log_dest file $work/broker.log
listener $PLAIN 127.0.0.1
listener $TLS 127.0.0.1
cafile $work/ca.crt
certfile $work/server.crt
keyfile $work/server.key
EOF
sed "s/^listener $PLAIN 127.0.0.1/listener $LATE 127.0.0.1/; /^listener $TLS/,\$d" broker.conf >late.conf

broker_pid=
start_broker() {  # CONF PORT
  mosquitto -c "$1" >>broker.out 2>&1 &
  broker_pid=$!
  pids+=("$broker_pid")
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "broker did not start on $2:" >&2; cat broker.out broker.log >&2 || true; exit 1
}
sub() {  # PORT TOPIC SECONDS OUT [COUNT]: subscribe in the background
  mosquitto_sub -h 127.0.0.1 -p "$1" -u edge -P 'c0rrect horse' -t "$2" -v -W "$3" ${5:+-C "$5"} >"$4" 2>/dev/null &
  pids+=($!)
  sleep 0.3
}
retained_status() {  # DEVICE: the retained status payload, or nothing
  mosquitto_sub -h 127.0.0.1 -p "$PLAIN" -u edge -P 'c0rrect horse' -t "eb/$1/status" -C 1 -W 2 2>/dev/null || true
}
wait_for() {  # SECONDS COMMAND...: until COMMAND succeeds
  local end=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -lt "$end" ] || return 1; sleep 0.2; done
}
has_state() { retained_status "$1" | grep -q "\"state\":\"$2\""; }
frames_seen() { grep -c '^{"frame"' "$1" 2>/dev/null || true; }

start_broker broker.conf "$PLAIN"
sample="$root/Models/sample.y4m"
mkdir -p still && cp "$root/Tests/Fixtures/photos/chelsea.png" still/

echo "== 1: every result arrives, byte for byte the stdout line"
sub "$PLAIN" eb/cam1/result 20 every.sub 40
"$exe" run --source "$sample" --loop --max-frames 40 --mqtt "mqtt://edge@127.0.0.1:$PLAIN/eb" --device-id cam1 --publish every >every.out 2>every.err
wait_for 10 bash -c '[ $(wc -l <every.sub) -ge 40 ]' || true
if python3 - every.out every.sub <<'EOF'
import json, sys
out = [l.rstrip("\n") for l in open(sys.argv[1])]
got = [l.rstrip("\n").split(" ", 1) for l in open(sys.argv[2])]
assert all(t == "eb/cam1/result" for t, _ in got), "wrong topic"
payloads = [p for _, p in got]
assert len(out) == 40, f"{len(out)} stdout lines"
assert payloads == out, f"{len(payloads)} messages, first difference at {next((i for i, (a, b) in enumerate(zip(payloads, out)) if a != b), None)}"
for p in payloads:
    r = json.loads(p)
    assert r["top"][0]["label"] and 0 <= r["top"][0]["score"] <= 1
EOF
then pass "40 of 40 results, identical to stdout, valid JSON"; else fail "results over MQTT differ from stdout"; cat every.err >&2; fi
grep -q '"state":"offline"' <(retained_status cam1) && pass "clean exit leaves the retained status offline" || fail "status after a clean exit is not offline"

echo "== 2: change mode publishes exactly the changes (no heartbeat)"
sub "$PLAIN" eb/cam2/result 20 change.sub
"$exe" run --source "$sample" --loop --max-frames 60 --mqtt "mqtt://edge@127.0.0.1:$PLAIN/eb" --device-id cam2 \
  --publish change --publish-delta 0.02 --publish-interval 0 >change.out 2>change.err
sleep 1
if python3 - change.out change.sub <<'EOF'
import json, sys
out = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l.split(" ", 1)[1]) for l in open(sys.argv[2])]
expected, last = [], None
for r in out:
    top = (r["top"][0]["class"], r["top"][0]["score"])
    if last is None or top[0] != last[0] or abs(top[1] - last[1]) > 0.02:
        expected.append(r["frame"]); last = top
frames = [r["frame"] for r in got]
assert frames == expected, f"published {frames}, expected {expected}"
assert 0 < len(frames) < len(out), f"{len(frames)} of {len(out)}"
print(f"   {len(frames)} of {len(out)} frames published")
EOF
then pass "change mode: the published frames are exactly those the rule picks"; else fail "change mode published the wrong frames"; cat change.err >&2; fi

echo "== 3: heartbeat on a still scene, and SIGTERM publishes offline and exits 0"
sub "$PLAIN" eb/cam3/result 20 still.sub
"$exe" run --source still --loop --mqtt "mqtt://edge@127.0.0.1:$PLAIN/eb" --device-id cam3 --publish-interval 1 >still.out 2>still.err &
daemon=$!; pids+=("$daemon")
sleep 4.5
kill -TERM "$daemon"; rc=0; wait "$daemon" || rc=$?
n=$(wc -l <still.sub); frames=$(frames_seen still.out)
if [ "$rc" = 0 ] && [ "$n" -ge 3 ] && [ "$n" -le 7 ] && [ "$frames" -gt $((n * 5)) ]; then
  pass "still scene: $n messages (first + heartbeats every 1 s) for $frames frames; SIGTERM exit 0"
else fail "still scene: rc $rc, $n messages for $frames frames"; cat still.err >&2; fi
has_state cam3 offline && pass "SIGTERM: retained status offline" || fail "SIGTERM: status not offline"

echo "== 4: SIGKILL: the broker publishes the Last Will (offline)"
"$exe" run --source "$sample" --loop --mqtt "mqtt://edge@127.0.0.1:$PLAIN/eb" --device-id cam4 >/dev/null 2>kill.err &
daemon=$!; pids+=("$daemon")
if wait_for 20 has_state cam4 online; then
  kill -KILL "$daemon"; wait "$daemon" 2>/dev/null || true
  wait_for 5 has_state cam4 offline && pass "online while running, offline (Last Will) after SIGKILL" || fail "no Last Will after SIGKILL"
else fail "cam4 never showed online"; cat kill.err >&2; fi

echo "== 5: broker stopped mid-run and restarted: reconnects, results resume, drops counted"
sub "$PLAIN" eb/cam5/result 30 before.sub
"$exe" run --source "$sample" --loop --mqtt "mqtt://edge@127.0.0.1:$PLAIN/eb" --device-id cam5 --publish every \
  --mqtt-queue 16 --summary-interval 1 --metrics-file "$work/cam5.prom" >restart.out 2>restart.err &
daemon=$!; pids+=("$daemon")
wait_for 20 bash -c '[ $(wc -l <before.sub) -ge 5 ]' || fail "no results before the restart"
kill -TERM "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
sleep 3
start_broker broker.conf "$PLAIN"
sub "$PLAIN" eb/cam5/result 30 after.sub 5
wait_for 25 bash -c '[ $(wc -l <after.sub) -ge 5 ]' || true
kill -TERM "$daemon"; rc=0; wait "$daemon" || rc=$?
after=$(wc -l <after.sub)
dropped=$(sed -n 's/^edgebone_mqtt_dropped_total \([0-9]*\)$/\1/p' cam5.prom)
reconnects=$(sed -n 's/^edgebone_mqtt_reconnects_total \([0-9]*\)$/\1/p' cam5.prom)
if [ "$rc" = 0 ] && [ "$after" -ge 5 ] && [ "${dropped:-0}" -gt 0 ] && [ "${reconnects:-0}" -ge 1 ] \
   && grep -q 'mqtt: connection to .* lost' restart.err && grep -q 'dropped (mqtt_dropped)' restart.err; then
  pass "reconnected ($reconnects), $after results after the restart, $dropped dropped while away, exit 0"
else fail "restart: rc $rc, $after results after, dropped '${dropped:-}', reconnects '${reconnects:-}'"; cat restart.err >&2; fi
[ "$(frames_seen restart.out)" -gt 20 ] || fail "inference stalled while the broker was away"

echo "== 6: wrong password: a clear error, retried with backoff, inference goes on"
EDGEBONE_MQTT_PASSWORD=wrong timeout --preserve-status -s TERM 4 "$exe" run --source "$sample" --loop --mqtt "mqtt://edge@127.0.0.1:$PLAIN/eb" \
  --device-id cam6 >badpw.out 2>badpw.err && rc=0 || rc=$?
attempts=$(grep -c 'not authori[sz]ed.*retrying in' badpw.err || true)
if [ "$rc" = 0 ] && [ "$attempts" -ge 2 ] && [ "$(frames_seen badpw.out)" -gt 20 ]; then
  pass "wrong password: $attempts logged attempts ('$(grep -m1 -o 'the broker refused[^;]*' badpw.err)'), $(frames_seen badpw.out) frames classified"
else fail "wrong password: rc $rc, $attempts attempts"; cat badpw.err >&2; fi

echo "== 7: TLS with the right CA"
sub "$PLAIN" eb/cam7/result 20 tls.sub 10
"$exe" run --source "$sample" --loop --max-frames 10 --mqtt "mqtts://edge@127.0.0.1:$TLS/eb" --mqtt-ca ca.crt --device-id cam7 \
  --publish every >tls.out 2>tls.err || fail "TLS run failed"
wait_for 10 bash -c '[ $(wc -l <tls.sub) -ge 10 ]' && pass "mqtts: 10 results over TLS" || { fail "mqtts: $(wc -l <tls.sub) results"; cat tls.err >&2; }

echo "== 8: TLS with an untrusted certificate: a clear error, retried, no crash"
timeout --preserve-status -s TERM 3 "$exe" run --source "$sample" --loop --mqtt "mqtts://edge@127.0.0.1:$TLS/eb" --mqtt-ca rogue.crt \
  --device-id cam8 >rogue.out 2>rogue.err && rc=0 || rc=$?
if [ "$rc" = 0 ] && grep -qi 'certificate verify failed\|certificate' rogue.err && grep -q 'retrying in' rogue.err; then
  pass "untrusted certificate: '$(grep -m1 -o 'cannot connect.*' rogue.err | cut -c1-150)'"
else fail "untrusted certificate: rc $rc"; cat rogue.err >&2; fi

echo "== 9: no broker at start: retries, then connects when one appears"
"$exe" run --source "$sample" --loop --mqtt "mqtt://edge@127.0.0.1:$LATE/eb" --device-id cam9 --publish every >late.out 2>late.err &
daemon=$!; pids+=("$daemon")
sleep 2
start_broker late.conf "$LATE"
late_broker=$broker_pid
mosquitto_sub -h 127.0.0.1 -p "$LATE" -u edge -P 'c0rrect horse' -t eb/cam9/result -C 3 -W 20 >late.sub 2>/dev/null || true
kill -TERM "$daemon"; rc=0; wait "$daemon" || rc=$?
kill -TERM "$late_broker" 2>/dev/null || true
if [ "$rc" = 0 ] && grep -q 'Connection refused; retrying in' late.err && [ "$(wc -l <late.sub)" = 3 ]; then
  pass "refused $(grep -c 'Connection refused' late.err) time(s), then connected; results flow"
else fail "late broker: rc $rc, $(wc -l <late.sub) results"; cat late.err >&2; fi

echo "== 10: configuration mistakes stop at start-up with the reason"
check_refusal() {  # WHAT EXPECTED ARGS...
  local what=$1 expected=$2; shift 2
  if "$exe" run --max-frames 1 "$@" >/dev/null 2>refusal.err; then fail "$what: accepted"
  elif grep -q "$expected" refusal.err; then pass "$what: '$(grep -m1 "$expected" refusal.err | cut -c1-120)'"
  else fail "$what: unclear error"; cat refusal.err >&2; fi
}
check_refusal "missing CA file" "/nope/ca.pem" --mqtt "mqtts://edge@127.0.0.1:$TLS/eb" --mqtt-ca /nope/ca.pem
check_refusal "bad scheme" "expected mqtt://" --mqtt "http://127.0.0.1/eb"
check_refusal "bad port" "port '70000'" --mqtt "mqtt://127.0.0.1:70000/eb"
check_refusal "wildcard prefix" "wildcard" --mqtt "mqtt://127.0.0.1/eb/#"
check_refusal "bad publish mode" "every or change" --mqtt "mqtt://127.0.0.1/eb" --publish sometimes
check_refusal "password shown" "\\*\\*\\*" --mqtt "mqtt://u:hunter2@127.0.0.1:0/eb"
grep -q hunter2 refusal.err && fail "the password appears in an error message"

echo "== 11: no allocation per frame on the inference path with --mqtt"
if bash "$root/Tests/alloc/daemon-allocations.sh" "$exe" --mqtt "mqtt://edge@127.0.0.1:$PLAIN/eb" --device-id alloc --publish every; then
  pass "allocation check with --mqtt"
else fail "allocation check with --mqtt"; fi

if [ "$failures" -gt 0 ]; then echo "MQTT TESTS: $failures FAILED" >&2; exit 1; fi
echo "MQTT TESTS PASSED"
