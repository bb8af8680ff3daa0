#!/usr/bin/env bash
# A private single-node Apache Kafka (KRaft, broker + controller in one JVM) for dev, tests and benchmarks.
#
#   kafka.sh fetch                              jars from Maven Central into target/dependency (skipped if present)
#   kafka.sh start DATA_DIR PORT [CONTROLLER_PORT]   format DATA_DIR once, start, wait until PORT accepts connections
#   kafka.sh stop DATA_DIR                      stop the broker whose pid is in DATA_DIR/kafka.pid
#
# Restarting on the same DATA_DIR keeps the data: storage is formatted only the first time.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JARS="$HERE/target/dependency"
# Modest heap: the machine runs Redis, ClickHouse (chDB) and the app beside it.
KAFKA_HEAP="${KAFKA_HEAP:--Xms128m -Xmx512m}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"

die() { echo "kafka.sh: $*" >&2; exit 1; }

have_jars() { compgen -G "$JARS/kafka_2.13-*.jar" >/dev/null; }

fetch() {
  if have_jars; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found; install Maven to fetch the Kafka jars"
  (cd "$HERE" && mvn -q dependency:copy-dependencies -DincludeScope=runtime)
  have_jars || die "no kafka jar in $JARS after mvn dependency:copy-dependencies"
}

set_java() {
  # An array, not a function, so `"${JAVA[@]}" ... &` makes $! the JVM's own pid.
  # The classpath wildcard must reach java unexpanded, hence the quotes; $KAFKA_HEAP is split on purpose.
  # shellcheck disable=SC2206
  JAVA=(java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$DATA_DIR/log4j.properties" "-Dkafka.logs.dir=$DATA_DIR" -cp "$JARS/*")
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  # Prints the pid and succeeds only if the pid file names a live process.
  local pid
  [[ -f "$DATA_DIR/kafka.pid" ]] || return 1
  pid="$(cat "$DATA_DIR/kafka.pid")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

write_config() {
  cat >"$DATA_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA_DIR/data
num.partitions=3
auto.create.topics.enable=true
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
# A lone broker: no reason to make the first consumer group wait 3 s for peers that never come.
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
EOF
  cat >"$DATA_DIR/log4j.properties" <<EOF
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$DATA_DIR/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

start() {
  [[ $# -ge 2 ]] || die "usage: kafka.sh start DATA_DIR PORT [CONTROLLER_PORT]"
  command -v java >/dev/null || die "java not found; Kafka needs Java 17"
  mkdir -p "$1"
  DATA_DIR="$(cd "$1" && pwd)"
  PORT="$2"
  CONTROLLER_PORT="${3:-$((PORT + 1))}"
  if pid="$(running_pid)"; then die "already running in $DATA_DIR (pid $pid)"; fi
  if port_open "$PORT"; then die "port $PORT is already in use"; fi
  fetch
  write_config
  set_java
  if [[ ! -f "$DATA_DIR/data/meta.properties" ]]; then
    local cluster_id
    cluster_id="$("${JAVA[@]}" kafka.tools.StorageTool random-uuid)"
    "${JAVA[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$DATA_DIR/server.properties" >/dev/null
  fi
  # Output goes to files, never to our stdout, so a caller reading this script's output does not wait for the JVM.
  "${JAVA[@]}" kafka.Kafka "$DATA_DIR/server.properties" >>"$DATA_DIR/stdout.log" 2>&1 </dev/null &
  echo $! >"$DATA_DIR/kafka.pid"
  local deadline=$((SECONDS + START_TIMEOUT))
  until port_open "$PORT"; do
    if ! running_pid >/dev/null; then
      tail -n 30 "$DATA_DIR/server.log" "$DATA_DIR/stdout.log" >&2 2>/dev/null || true
      die "broker exited during startup; logs are in $DATA_DIR"
    fi
    if ((SECONDS >= deadline)); then
      stop_dir
      die "broker did not accept connections on port $PORT within ${START_TIMEOUT}s; logs are in $DATA_DIR"
    fi
    sleep 0.2
  done
}

stop_dir() {
  local pid
  pid="$(running_pid)" || { rm -f "$DATA_DIR/kafka.pid"; return 0; }
  kill -TERM "$pid"
  # A controlled shutdown of a lone KRaft node takes a few seconds; after 30 s it is killed.
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka.sh: broker $pid ignored SIGTERM for 30 s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$DATA_DIR/kafka.pid"
}

stop() {
  [[ $# -ge 1 ]] || die "usage: kafka.sh stop DATA_DIR"
  [[ -d "$1" ]] || return 0
  DATA_DIR="$(cd "$1" && pwd)"
  stop_dir
}

cmd="${1:-}"
shift || true
case "$cmd" in
  fetch) fetch ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) die "usage: kafka.sh fetch | start DATA_DIR PORT [CONTROLLER_PORT] | stop DATA_DIR" ;;
esac
