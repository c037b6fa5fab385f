#!/usr/bin/env bash
# Idle RSS and page render time of the release binary.
set -u
B=${B:-target/release/tgbox}
rm -rf /tmp/m-idle /tmp/m-load; mkdir -p /tmp/m-idle /tmp/m-load
echo "7000000001:SIMULATED-token-for-tests" > /tmp/m-token
echo "measure-password-1" | $B admin set-password --data /tmp/m-idle >/dev/null
echo "measure-password-1" | $B admin set-password --data /tmp/m-load >/dev/null
# 1. idle: no traffic
$B sim --listen 127.0.0.1:18091 >/dev/null 2>&1 & SIM=$!
sleep 1
TGBOX_WEB_LISTEN=127.0.0.1:18092 $B run --data /tmp/m-idle --token-file /tmp/m-token --api-url http://127.0.0.1:18091 >/tmp/m-idle.log 2>&1 & APP=$!
sleep 40
echo "idle RSS: $(grep VmRSS /proc/$APP/status)  threads: $(grep Threads /proc/$APP/status)"
kill $APP; wait $APP; kill $SIM; wait $SIM 2>/dev/null
# 2. under 50 msg/s, 60 s of history, then 500 overview requests
$B sim --listen 127.0.0.1:18093 --rate 50 >/dev/null 2>&1 & SIM=$!
sleep 1
TGBOX_WEB_LISTEN=127.0.0.1:18094 $B run --data /tmp/m-load --token-file /tmp/m-token --api-url http://127.0.0.1:18093 >/tmp/m-load.log 2>&1 & APP=$!
sleep 60
U=http://127.0.0.1:18094; rm -f /tmp/m-cj
CSRF=$(curl -s -c /tmp/m-cj $U/login | grep -o 'name="csrf" value="[^"]*"' | cut -d'"' -f4)
curl -s -b /tmp/m-cj -c /tmp/m-cj -o /dev/null -d "username=admin&password=measure-password-1&csrf=$CSRF&next=/" $U/login
for page in / /users /chats /logs; do
  for i in $(seq 1 300); do curl -s -b /tmp/m-cj -o /dev/null -w "%{time_total}\n" "$U$page"; done | sort -n > /tmp/m-times
  n=$(wc -l < /tmp/m-times)
  echo "client $page: n=$n p50=$(sed -n "$((n/2))p" /tmp/m-times) p99=$(sed -n "$((n*99/100))p" /tmp/m-times) max=$(tail -1 /tmp/m-times)"
done
curl -s -b /tmp/m-cj $U/api/metrics > /tmp/m-metrics.json
python3 -c "
import json; m=json.load(open('/tmp/m-metrics.json'))
for op in m['operations']:
    if op['op'] in ('page_render','update','store_commit'):
        w=[x for x in op['windows'] if x['window']=='5m'][0]
        print(op['op'], 'count', w['count'], 'p50 us', round(w['p50']), 'p99 us', round(w['p99']), 'max us', round(w['max']))
print('messages/s', m['messages_per_sec']); print('rss', m['system']['rss_bytes']>>20, 'MiB', 'cpu', m['system']['cpu_percent'])
print('rows', m['store'])
"
echo "loaded RSS: $(grep VmRSS /proc/$APP/status)"
kill $APP; wait $APP; kill $SIM; wait $SIM 2>/dev/null
