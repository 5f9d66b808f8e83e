# servers.sh — start real Mosquitto and InfluxDB servers for the tests, on
# free loopback ports, with their data in a directory of the caller's.
# Source it; every server started is stopped by servers_stop_all (set as an
# EXIT trap by the caller, or called by it).
#
#   free_port                      print a TCP port nobody listens on
#   mosquitto_start DIR [CONF..]   broker on a free port: MQTT_PORT, MQTT_PID;
#                                  extra config lines are appended as given
#   influxd_start DIR              InfluxDB on free ports: INFLUX_PORT,
#                                  INFLUX_URL, INFLUX_PID; database askue made
#   influxd_stop / influxd_resume  stop and start the same InfluxDB (same data)
#   influx_query Q [DB]            run InfluxQL, print the JSON answer
#   wait_port PORT [SECONDS]       wait until something listens on PORT

SERVERS_PIDS=""

free_port() {
	local p
	for _ in $(seq 1 200); do
		# below the kernel's ephemeral range (32768-60999): a port
		# there may be taken by an outgoing connection between this
		# check and the server's bind (seen as "address already in use")
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12700))
		if ! ss -Htln "sport = :$p" | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

wait_port() {
	local port=$1 secs=${2:-20} i
	for i in $(seq 1 $((secs * 20))); do
		ss -Htln "sport = :$port" | grep -q . && return 0
		sleep 0.05
	done
	echo "servers.sh: nothing listens on port $port after ${secs}s" >&2
	return 1
}

# mosquitto_start DIR [CONFIG LINES..]
mosquitto_start() {
	local dir=$1
	shift
	mkdir -p "$dir"
	MQTT_PORT=$(free_port) || return 1
	{
		echo "listener $MQTT_PORT 127.0.0.1"
		echo "persistence true"
		echo "persistence_location $dir/"
		echo "log_dest file $dir/mosquitto.log"
		echo "log_type error"
		echo "log_type warning"
		echo "log_type notice"
		echo "log_type information"
		echo "max_queued_messages 0"
		echo "max_inflight_messages 0"
		echo "per_listener_settings false"
		for line in "$@"; do echo "$line"; done
	} >"$dir/mosquitto.conf"
	MQTT_DIR=$dir
	export MQTT_PORT MQTT_DIR
	mosquitto_resume
}

# mosquitto_resume: start the broker again on the configuration (and the
# persistence) mosquitto_start wrote; mosquitto_stop: a clean stop (the
# broker saves its sessions); mosquitto_restart: both.
mosquitto_resume() {
	local dir=$MQTT_DIR preload=""
	# A plugin built with ASan needs the runtime in the stock broker.
	if grep -q '^plugin .*asan' "$dir/mosquitto.conf"; then
		preload=$(gcc -print-file-name=libasan.so)
	fi
	LD_PRELOAD=$preload ASAN_OPTIONS=detect_leaks=0 mosquitto -c "$dir/mosquitto.conf" \
		>>"$dir/mosquitto.out" 2>&1 &
	MQTT_PID=$!
	SERVERS_PIDS="$SERVERS_PIDS $MQTT_PID"
	export MQTT_PID
	wait_port "$MQTT_PORT" || { cat "$dir/mosquitto.out" "$dir/mosquitto.log" >&2; return 1; }
}
mosquitto_stop() {
	kill "$MQTT_PID" 2>/dev/null
	wait "$MQTT_PID" 2>/dev/null
}
mosquitto_restart() {
	mosquitto_stop
	mosquitto_resume
}

# Write an influxdb.conf for DIR with HTTP on $2 and RPC on $3.
influxd_config() {
	local dir=$1 http=$2 rpc=$3
	cat >"$dir/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  index-version = "tsi1"
  max-series-per-database = 0
  max-values-per-tag = 0
  query-log-enabled = false
[coordinator]
  write-timeout = "30s"
[http]
  enabled = true
  bind-address = "127.0.0.1:$http"
  log-enabled = false
  max-body-size = 0
[monitor]
  store-enabled = false
[logging]
  level = "warn"
CONF
}

influxd_start() {
	INFLUX_DIR=$1
	mkdir -p "$INFLUX_DIR"
	INFLUX_PORT=$(free_port) || return 1
	local rpc
	rpc=$(free_port) || return 1
	influxd_config "$INFLUX_DIR" "$INFLUX_PORT" "$rpc"
	INFLUX_URL="http://127.0.0.1:$INFLUX_PORT"
	export INFLUX_PORT INFLUX_URL INFLUX_DIR
	influxd_resume || return 1
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE askue" >/dev/null
}

influxd_resume() {
	influxd -config "$INFLUX_DIR/influxdb.conf" >>"$INFLUX_DIR/influxd.log" 2>&1 &
	INFLUX_PID=$!
	SERVERS_PIDS="$SERVERS_PIDS $INFLUX_PID"
	export INFLUX_PID
	local i
	for i in $(seq 1 400); do
		curl -sf "$INFLUX_URL/ping" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "servers.sh: influxd did not answer on $INFLUX_URL" >&2
	tail -20 "$INFLUX_DIR/influxd.log" >&2
	return 1
}

influxd_stop() {
	kill "$INFLUX_PID" 2>/dev/null
	wait "$INFLUX_PID" 2>/dev/null
	return 0
}

influx_query() {
	curl -sf -G "$INFLUX_URL/query" --data-urlencode "db=${2:-askue}" \
		--data-urlencode "epoch=s" --data-urlencode "q=$1"
}

servers_stop_all() {
	local p
	for p in $SERVERS_PIDS; do kill "$p" 2>/dev/null; done
	for p in $SERVERS_PIDS; do wait "$p" 2>/dev/null; done
	SERVERS_PIDS=""
}
