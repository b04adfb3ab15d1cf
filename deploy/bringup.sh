#!/usr/bin/env bash
# Make PostgreSQL and RabbitMQ answer on localhost: find them running, or start them
# where installed but stopped, or install them with apt-get when run as root.
# Idempotent; prints one line per server; exits non-zero with a reason otherwise.
set -euo pipefail

PG_PORT=${PGPORT:-5432}
AMQP_PORT=${LIUHEN_AMQP_PORT:-5672}
MGMT_PORT=15672  # the management HTTP API: the plugin's default port
APP_USER=${LIUHEN_DB_APP_USER:-liuhen_app}  # the role the services log in as
am_root() { [ "$(id -u)" = 0 ]; }
say() { echo "bringup: $*"; }
die() { echo "bringup: $*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # wait_for SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

apt_install() {
  am_root || die "$1 is not installed, and installing it needs root (apt-get install $*)"
  say "installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "$@" >/dev/null
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }

postgresql() {
  if command -v pg_isready >/dev/null && pg_ready; then
    say "PostgreSQL answers on 127.0.0.1:$PG_PORT"; return
  fi
  local fresh=no
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    # Checked before installing: it goes unquoted into pg_hba.conf and a sed script.
    [[ $APP_USER =~ ^[a-z_][a-z0-9_]*$ ]] ||
      die "LIUHEN_DB_APP_USER=$APP_USER: use lower-case letters, digits and _ only"
    apt_install postgresql; fresh=yes
  fi
  local version; version=$(ls /etc/postgresql | sort -V | tail -n 1)
  say "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  wait_for 60 pg_ready || die "PostgreSQL $version did not start (see /var/log/postgresql/)"
  if [ "$fresh" = yes ]; then
    # A server we installed ourselves, for local use: let the invoking OS user in as a
    # superuser (peer auth) and the application role in over the local socket.
    local user; user=$(id -un)
    runuser -u postgres -- psql -qc "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$user') THEN CREATE ROLE \"$user\" SUPERUSER LOGIN; END IF; END\$\$" >/dev/null
    local hba; hba=$(runuser -u postgres -- psql -Atc 'SHOW hba_file')
    grep -q "^local all $APP_USER trust$" "$hba" || sed -i "1i local all $APP_USER trust" "$hba"
    runuser -u postgres -- psql -qc 'SELECT pg_reload_conf()' >/dev/null
  fi
  say "PostgreSQL answers on 127.0.0.1:$PG_PORT"
}

rabbit_ready() { port_open "$AMQP_PORT" && rabbitmqctl -q await_startup >/dev/null 2>&1; }

rabbitmq() {
  if port_open "$AMQP_PORT"; then
    say "RabbitMQ answers on 127.0.0.1:$AMQP_PORT"; return
  fi
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  if rabbitmqctl -q status >/dev/null 2>&1; then
    say "starting the RabbitMQ application (its node was running)"
    rabbitmqctl -q start_app >/dev/null
  else
    say "starting RabbitMQ"
    rabbitmq-server -detached >/dev/null 2>&1 || true
  fi
  wait_for 90 rabbit_ready || die "RabbitMQ did not start (see /var/log/rabbitmq/)"
  say "RabbitMQ answers on 127.0.0.1:$AMQP_PORT"
}

# `liuhen integrator` manages integrators' RabbitMQ users through the management HTTP
# API: it works from wherever the operator runs liuhen, where rabbitmqctl needs the
# broker's host and its Erlang cookie. Enabling the plugin on a running node starts it
# at once (no restart) and is remembered in its enabled_plugins file.
rabbitmq_management() {
  if ! port_open "$MGMT_PORT"; then
    command -v rabbitmq-plugins >/dev/null ||
      die "the RabbitMQ management API does not answer on 127.0.0.1:$MGMT_PORT"
    say "enabling the rabbitmq_management plugin"
    rabbitmq-plugins -q enable rabbitmq_management >/dev/null ||
      die "could not enable rabbitmq_management (rabbitmq-plugins enable rabbitmq_management)"
    wait_for 60 port_open "$MGMT_PORT" ||
      die "the RabbitMQ management API did not come up on 127.0.0.1:$MGMT_PORT"
  fi
  say "RabbitMQ management API answers on 127.0.0.1:$MGMT_PORT"
}

postgresql
rabbitmq
rabbitmq_management
