# Sourced by the scripts that use the cached Debian roots (Tests/aarch64/whole-program.sh,
# Fuzz/run-debian-swift.sh). Needs log() and die() from the caller.

# install_missing ROOT LOGFILE PACKAGE...: installs, with apt-get inside the root, the packages it lacks.
install_missing() {
  local dir=$1 logfile=$2 missing=() p
  shift 2
  for p in "$@"; do
    chroot "$dir" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  log "installing ${missing[*]} into $dir"
  cp -L /etc/resolv.conf "$dir/etc/resolv.conf"
  chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends ${missing[*]} && apt-get clean" \
    >"$logfile" 2>&1 || { tail -20 "$logfile" >&2; die "apt-get in $dir failed (log: $logfile)"; }
}
