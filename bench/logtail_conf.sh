# logtail_conf.sh - sourced by the tailer benchmarks: the daemon's
# configuration they all measure, so that their figures compare.
#
# daemon_conf DIR LOG - write DIR/posthook.conf: state in DIR/state, every
# message reported, run as the invoking user.
daemon_conf() {
	cat > "$1/posthook.conf" <<CONF
state_dir = $1/state
log_file = $2
pid_dir = $1
report = all
user = $(id -un)
group = $(id -gn)
CONF
}
